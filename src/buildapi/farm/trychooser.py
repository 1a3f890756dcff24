"""Try syntax (`try: -b do -p linux64,win32 -u mochitest-1 -t none`) -> which builders run."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

BUILD_TYPES = {"d": ("debug",), "o": ("opt",), "do": ("debug", "opt"), "od": ("debug", "opt")}


@dataclass(frozen=True)
class TrySelection:
    build_types: tuple[str, ...] = ("debug", "opt")
    platforms: tuple[str, ...] | None = None  # None = all
    unittests: tuple[str, ...] | None = None  # None = all, () = none
    talos: tuple[str, ...] | None = ()  # None = all, () = none

    def wants_build(self, platform: str, debug: bool) -> bool:
        build_type = "debug" if debug else "opt"
        return build_type in self.build_types and self._platform_ok(platform)

    def wants_test(self, platform: str, suite: str, talos: bool) -> bool:
        chosen = self.talos if talos else self.unittests
        if not self._platform_ok(platform):
            return False
        if chosen is None:
            return True
        return any(suite == name or suite.startswith(f"{name}-") for name in chosen)

    def _platform_ok(self, platform: str) -> bool:
        return self.platforms is None or platform in self.platforms


def parse_try(comments: str) -> TrySelection | None:
    """The selection in the last `try:` line of a commit message, or None without one."""
    lines = [line for line in comments.splitlines() if "try:" in line]
    if not lines:
        return None
    words = shlex.split(lines[-1].split("try:", 1)[1].replace(",", " , "))
    options: dict[str, list[str]] = {}
    current = None
    for word in words:
        if re.fullmatch(r"-[a-z]|--[a-z-]+", word):
            current = word.lstrip("-")[:1]
            options[current] = []
        elif current and word != ",":
            options[current].append(word)
    return TrySelection(
        build_types=BUILD_TYPES.get("".join(options.get("b", ["do"])), ("debug", "opt")),
        platforms=_choice(options.get("p")),
        unittests=_choice(options.get("u")),
        talos=_choice(options.get("t"), default=()),
    )


def _choice(values: list[str] | None, default: tuple[str, ...] | None = None):  # type: ignore[no-untyped-def]
    if values is None:
        return default
    if values in (["all"], []):
        return None
    if values == ["none"]:
        return ()
    return tuple(values)
