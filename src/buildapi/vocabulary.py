"""The farm's words, defined once: Buildbot's result codes and their legacy names, the slave
pools, and the reasons that mark a build request as a rebuild or a self-serve request. The
farm writes them, the reports and the agent read them back, so they must never drift apart."""

from __future__ import annotations

from enum import IntEnum


class Result(IntEnum):
    """A Buildbot 0.8 result code, as buildrequests.results and builds.result store it."""

    SUCCESS = 0
    WARNINGS = 1
    FAILURE = 2
    SKIPPED = 3
    EXCEPTION = 4
    RETRY = 5
    CANCELLED = 6

    @property
    def legacy_name(self) -> str:
        """The name the legacy JSON uses (`results_str`, `results_<name>` keys)."""
        return self.name.lower()

    @property
    def label(self) -> str:
        """The name pages show."""
        return self.name.capitalize()

    @classmethod
    def of(cls, code: int | None) -> Result | None:
        """The result a stored code stands for; None for no result or a code Buildbot never
        wrote."""
        try:
            return cls(code) if code is not None else None
        except ValueError:
            return None


def is_good(code: int | None) -> bool:
    """Whether a build's work stands: its tests are requested, its buildset succeeds."""
    return code in (Result.SUCCESS, Result.WARNINGS)


# Master role (layout) -> the slave pool the wait-time reports name it by.
POOLS = {"build": "buildpool", "try": "trybuildpool", "tests": "testpool"}
POOL_NAMES = tuple(POOLS.values())

# The reasons self-serve gives the buildsets it makes, followed by the user. Wait-time reports
# leave out every reason with REBUILT in it, whoever wrote it.
REBUILT = "Rebuilt by "
REBUILT_BY = f"Self-serve: {REBUILT}"
REQUESTED_BY = "Self-serve: Requested by "
# The reasons a Buildbot master's own web buttons give, followed by the user.
REBUILD_BUTTON = "The web-page 'rebuild' button was pressed by "
FORCE_BUILD_BUTTON = "The web-page 'force build' button was pressed by "
