"""The one source of "now": the system clock, or a virtual clock that tests move by hand."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float: ...


class SystemClock:
    def now(self) -> float:
        return time.time()


class VirtualClock:
    """A clock that only moves when told to, so a seeded farm replays exactly."""

    def __init__(self, start: float) -> None:
        self._now = float(start)

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("a clock cannot go back")
        self._now += seconds
        return self._now

    def set(self, moment: float) -> None:
        if moment < self._now:
            raise ValueError("a clock cannot go back")
        self._now = moment
