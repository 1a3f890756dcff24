"""The daily dumps, builds-YYYY-MM-DD.js.gz: which days are due and writing them.

A daily file holds the builds that ended in one UTC day, whatever `timezone` says: mozci picks
the file by the UTC day of a job's end, and the legacy reporter read its start date as UTC. A
day is due once it has ended and no file holds it yet, from the first build's day on; the day
still running never gets a file, as the legacy cron only wrote days that were over.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Collection
from pathlib import Path

from buildapi.db.engines import Databases
from buildapi.db.queries.status_dump import first_build_end
from buildapi.dumps.builds import builds_document
from buildapi.dumps.writer import write_atomically

log = logging.getLogger(__name__)

DAY = datetime.timedelta(days=1)
# A build that ends just before midnight reaches statusdb a moment later; its day waits for it.
SETTLE_SECONDS = 300.0


def day_name(day: datetime.date) -> str:
    return f"builds-{day.isoformat()}.js.gz"


def write_day_dump(databases: Databases, out: Path, day: datetime.date) -> Path:
    """Builds that ended on `day`, a UTC day: always 86400 seconds, DST or not."""
    start = datetime.datetime.combine(day, datetime.time(), datetime.UTC).timestamp()
    return write_atomically(
        out / day_name(day), builds_document(databases, start, start + 86399), compress=True
    )


def last_complete_day(now: float) -> datetime.date:
    """The newest UTC day that ended at least SETTLE_SECONDS before `now`."""
    settled = datetime.datetime.fromtimestamp(now - SETTLE_SECONDS, datetime.UTC)
    return settled.date() - DAY


def due_days(
    first: datetime.date | None, now: float, written: Collection[str]
) -> list[datetime.date]:
    """The complete days from `first` on whose file is not among `written` (file names),
    newest first: yesterday's file is the one clients ask for soonest."""
    if first is None:
        return []
    last = last_complete_day(now)
    days = (last - n * DAY for n in range((last - first).days + 1))
    return [day for day in days if day_name(day) not in written]


class DailyDumps:
    """Writes the due daily files of `databases` into `out`, one day at a time."""

    def __init__(self, databases: Databases, out: Path) -> None:
        self.databases = databases
        self.out = out
        self._first: datetime.date | None = None

    def due(self, now: float) -> list[datetime.date]:
        if self._first is None:
            first = first_build_end(self.databases.statusdb)
            self._first = first.date() if first else None
        written = {path.name for path in self.out.glob("builds-*.js.gz")}
        return due_days(self._first, now, written)

    def write_due(self, now: float, keep_going: Callable[[], bool]) -> list[Path]:
        """Write the days due at `now`, newest first, while `keep_going()` says so after each
        one: at least one a call, so a slow round still makes progress."""
        written: list[Path] = []
        for day in self.due(now):
            written.append(write_day_dump(self.databases, self.out, day))
            log.info("wrote the daily dump %s", written[-1].name)
            if not keep_going():
                break
        return written
