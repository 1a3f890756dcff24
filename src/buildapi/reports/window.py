"""The time window and its intervals, shared by every report.

`starttime`/`endtime` are epoch seconds or `YYYY-MM-DD` dates (midnight in the report zone; an
end date means the end of that day, so one date in both fields is that whole day). A missing end
is start + 24 h capped at now, or now; a missing start is end - 24 h; 0 counts as missing. Every
one of them, given or derived, must lie in the range of buildapi.times.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from zoneinfo import ZoneInfo

from buildapi.errors import BadInput
from buildapi.times import DATE, checked_epoch, midnight, parse_day, parse_epoch

DAY = 86400
DEFAULT_INTERVALS = 12
MAX_INTERVALS = 1500


@dataclass(frozen=True)
class Window:
    starttime: float
    endtime: float
    int_size: int

    @cached_property
    def int_no(self) -> int:
        """How many intervals cover the window (at least one)."""
        return max(1, int((self.endtime - self.starttime - 1) / self.int_size) + 1)

    def index(self, moment: float) -> int:
        """The interval a moment falls in; moments outside the window go to the nearest end."""
        if moment <= self.starttime:
            return 0
        return min(int((moment - self.starttime) / self.int_size), self.int_no - 1)

    def interval_starts(self) -> list[int]:
        return [int(self.starttime + i * self.int_size) for i in range(self.int_no)]


def parse_time(text: str | None, name: str, zone: ZoneInfo, *, end: bool = False) -> float | None:
    """Epoch seconds (int when integral) from a number or a date; None when empty or 0."""
    if text is None or not text.strip():
        return None
    if DATE.fullmatch(text):
        return midnight(parse_day(text, name), zone, name, days_later=1 if end else 0)
    return parse_epoch(text, name, "epoch seconds or YYYY-MM-DD") or None


def make_window(
    starttime: float | None,
    endtime: float | None,
    int_size: int | None,
    *,
    now: float,
    max_days: int,
    intervals: int = DEFAULT_INTERVALS,
) -> Window:
    """Defaults filled in and bounds checked: start <= end, span <= max_days, sane intervals.
    Without `int_size` the window is cut into `intervals` (reports differ in resolution)."""
    if starttime is not None and endtime is not None and starttime > endtime:
        raise BadInput("starttime must not be after endtime")
    if endtime is None:
        endtime = min(starttime + DAY, now) if starttime is not None else now
    if starttime is None:
        starttime = checked_epoch(endtime - DAY, "endtime - 24 h (the default starttime)")
    if starttime > endtime:
        raise BadInput("starttime must not be after endtime")
    span = endtime - starttime
    if span > max_days * DAY:
        raise BadInput(f"the window is longer than the allowed {max_days} days")
    if int_size is not None and not 0 <= int_size <= max_days * DAY:
        raise BadInput(f"int_size must be 0 to {max_days * DAY} seconds (the longest window)")
    size = int_size or max(1, int(span // intervals))
    window = Window(starttime, endtime, size)
    if window.int_no > MAX_INTERVALS:
        raise BadInput(
            f"int_size {size} gives more than {MAX_INTERVALS} intervals; use a larger one"
        )
    return window
