"""The builders the nightly and PGO actions start on a branch, picked by name as legacy picked
them. The web refuses a request that would start none and the agent starts the same ones, so
the two cannot disagree."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from buildapi.layout.loader import FarmLayout

PeriodicKind = Literal["nightly", "pgo"]


@dataclass(frozen=True)
class NameRule:
    """Builder names that match `wanted` and not `unwanted`."""

    wanted: re.Pattern[str]
    unwanted: re.Pattern[str] | None = None

    def admits(self, name: str) -> bool:
        return bool(self.wanted.search(name)) and not (self.unwanted and self.unwanted.search(name))


RULES: dict[PeriodicKind, NameRule] = {
    "nightly": NameRule(re.compile(" nightly$"), re.compile("l10n")),
    "pgo": NameRule(re.compile(" pgo-build$")),
}


def periodic_builders(layout: FarmLayout, branch: str, kind: PeriodicKind) -> list[str]:
    """The branch's `kind` builders by name, sorted; empty when it has none."""
    rule = RULES[kind]
    return sorted(name for name in layout.builders_for_branch(branch) if rule.admits(name))
