"""The times a master writes into schedulerdb. A Buildbot 0.8 master stamps each statement with
time.time(): float seconds (SQLite keeps the fraction, MySQL and PostgreSQL round it into
their INTEGER columns), a little later with every statement. The farm's clock may stand still
on whole seconds, so the farm adds what the statements take."""

from __future__ import annotations

from buildapi.clock import Clock

# About what one INSERT or UPDATE took on a real master: the builds rows of a merged build,
# one INSERT each, start this far apart.
STATEMENT_SECONDS = 0.0004


class WriteTimes:
    """Float epoch seconds for each schedulerdb write: the farm's time plus the statements
    already written at it. Never the same twice, never going back."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._last = float("-inf")

    def take(self) -> float:
        self._last = max(self.clock.now(), self._last) + STATEMENT_SECONDS
        return self._last
