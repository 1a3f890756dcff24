"""The nightly and PGO builders of a branch, as the web's check and the agent both pick them."""

from __future__ import annotations

import pytest

from buildapi.config import Settings
from buildapi.layout import load_layout, periodic_builders
from buildapi.layout.periodic import RULES


@pytest.mark.parametrize(
    ("kind", "name", "admitted"),
    [
        ("nightly", "Linux x86-64 mozilla-central nightly", True),
        ("nightly", "Linux x86-64 mozilla-central l10n nightly", False),
        ("nightly", "Linux x86-64 mozilla-central nightly test", False),
        ("pgo", "WINNT 5.2 mozilla-inbound pgo-build", True),
        ("pgo", "WINNT 5.2 mozilla-inbound pgo test mochitest-1", False),
        ("pgo", "Linux x86-64 mozilla-central nightly", False),
    ],
)
def test_rules_go_by_the_end_of_the_name(kind: str, name: str, admitted: bool) -> None:
    assert RULES[kind].admits(name) is admitted  # type: ignore[index]


def test_builders_of_the_example_branches(settings: Settings) -> None:
    layout = load_layout(settings)
    nightlies = periodic_builders(layout, "mozilla-central", "nightly")
    assert nightlies == sorted(nightlies) and len(nightlies) == 6
    assert all(name.endswith(" mozilla-central nightly") for name in nightlies)
    pgo = periodic_builders(layout, "mozilla-inbound", "pgo")
    assert pgo and all(name.endswith(" mozilla-inbound pgo-build") for name in pgo)
    assert periodic_builders(layout, "mozilla-inbound", "nightly") == []
    assert (
        periodic_builders(layout, "try", "pgo") == periodic_builders(layout, "try", "nightly") == []
    )
    assert periodic_builders(layout, "no-such-branch", "pgo") == []
