"""Which builders a push, a good build or a periodic scheduler asks for: the schedulers'
decisions, shared by the live farm and the history generator."""

from __future__ import annotations

from buildapi.farm.trychooser import TrySelection, parse_try
from buildapi.layout import Builder, FarmLayout


def is_debug(build_name: str) -> bool:
    """Whether a build builder makes debug builds: Mozilla names those `... leak test build`."""
    return "leak test" in build_name


def wants_build(selection: TrySelection | None, name: str, builder: Builder) -> bool:
    if selection is None:
        return True
    return selection.wants_build(builder.properties.platform, is_debug(name))


def suite_of(name: str) -> str:
    """The suite a test or talos builder runs: the last word of its name (`... test
    mochitest-1`, `... talos tp5o`), as try syntax and the build steps name it."""
    return name.rsplit(" ", 1)[-1]


def wants_test(selection: TrySelection | None, name: str, builder: Builder) -> bool:
    if selection is None:
        return True
    suite = suite_of(name)
    return selection.wants_test(builder.properties.platform, suite, builder.kind == "talos")


def tests_scheduler(upstream_name: str, upstream: Builder) -> str:
    """The name of the scheduler that requests a build's tests."""
    build_type = "debug" if is_debug(upstream_name) else "opt"
    properties = upstream.properties
    return f"tests-{properties.branch}-{properties.platform}-{build_type}-unittest"


class Selector:
    """Builder choices, computed once per layout: what a push, a good build or a periodic
    scheduler asks for."""

    def __init__(self, layout: FarmLayout) -> None:
        self.layout = layout
        named = sorted(layout.builders.items())
        self._builds = {
            branch: [
                (n, b) for n, b in named if b.properties.branch == branch and b.kind == "build"
            ]
            for branch in layout.branches
        }
        self._tests: dict[str, list[tuple[str, Builder]]] = {}
        for name, builder in named:
            if builder.triggered_by is not None:
                self._tests.setdefault(builder.triggered_by, []).append((name, builder))

    def for_push(self, branch: str, comments: str) -> tuple[list[str], TrySelection | None]:
        """The build builders a push whose tip has `comments` requests ([] for DONTBUILD),
        and its try selection."""
        if "DONTBUILD" in comments:
            return [], None
        selection = parse_try(comments) if branch == "try" else None
        names = [n for n, b in self._builds.get(branch, ()) if wants_build(selection, n, b)]
        return names, selection

    def tests_for(self, buildername: str, selection: TrySelection | None) -> list[str]:
        return [n for n, b in self._tests.get(buildername, ()) if wants_test(selection, n, b)]

    def periodic(self, branch: str, kinds: tuple[str, ...]) -> list[str]:
        builders = self.layout.builders_for_branch(branch)
        return sorted(name for name, builder in builders.items() if builder.kind in kinds)
