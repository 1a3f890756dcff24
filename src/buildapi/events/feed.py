"""The change feed: each poll reads what changed since the last one, through indexed
columns, and turns it into events (`request`, `build`, `job`, or `reset` when too much
changed at once). One feed runs per web process."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from buildapi.db.engines import Databases
from buildapi.db.queries.farm_changes import (
    BUILD_KINDS,
    TIME_COLUMNS,
    FarmChange,
    changed_after,
    newest_time,
)
from buildapi.db.queries.jobrequests import (
    COMPLETE,
    JobState,
    jobs_by_id,
    jobs_to_follow,
    newest_job_id,
)
from buildapi.dumps.shapes import short_branch
from buildapi.vocabulary import Result

Event = tuple[str, dict[str, Any]]
"""An event's name and its data."""

# A commit may land after a later-stamped one was read: each kind reads this many seconds of
# its time column again, and skips the rows it has already told.
LOOKBACK_SECONDS = 30.0
# Rows of one kind per poll; more means a burst (a history import, say): clients reload.
MOST_PER_POLL = 500


@dataclass
class Cursor:
    """How far one kind has been read: the newest time told, a floor nothing at or below is
    read again, and the ids told within the lookback."""

    newest: float
    floor: float
    told: dict[int, float] = field(default_factory=dict)

    def since(self) -> float:
        return self.newest - LOOKBACK_SECONDS

    def take(self, rows: list[FarmChange]) -> list[FarmChange]:
        """The rows not told yet; forgets what fell out of the lookback."""
        fresh = [row for row in rows if row.id not in self.told]
        for row in fresh:
            self.told[row.id] = row.time
            self.newest = max(self.newest, row.time)
        self.told = {key: time for key, time in self.told.items() if time >= self.since()}
        return fresh

    def jump(self, newest: float) -> None:
        self.newest = self.floor = newest
        self.told = {}


@dataclass
class JobCursor:
    """The jobs still unanswered, and the newest job id seen."""

    newest_id: int
    open: set[int]


class FarmFeed:
    def __init__(self, databases: Databases, branch_names: Callable[[], Sequence[str]]) -> None:
        self.databases = databases
        self.branch_names = branch_names
        self._cursors: dict[str, Cursor] = {}
        self._jobs: JobCursor | None = None
        self.watermark = "0"

    def poll(self) -> list[Event]:
        """The events since the last poll; the first poll only finds where things stand."""
        if self._jobs is None:
            self._start()
            return []
        events = self._farm_events() + self._job_events()
        self.watermark = self._digest()
        return events

    def _start(self) -> None:
        with self.databases.schedulerdb.connect() as connection:
            for kind in TIME_COLUMNS:
                newest = newest_time(connection, kind)
                self._cursors[kind] = Cursor(newest, newest)
        with self.databases.buildapi_db.connect() as connection:
            newest_id = newest_job_id(connection)
            still_open = jobs_to_follow(connection, newest_id)
        self._jobs = JobCursor(newest_id, {job.id for job in still_open})
        self.watermark = self._digest()

    def _farm_events(self) -> list[Event]:
        events: list[Event] = []
        names = list(self.branch_names())
        with self.databases.schedulerdb.connect() as connection:
            for kind, cursor in self._cursors.items():
                rows = changed_after(connection, kind, cursor.floor, cursor.since(), MOST_PER_POLL)
                if len(rows) == MOST_PER_POLL:
                    cursor.jump(newest_time(connection, kind))
                    events.append(("reset", {"type": "reset", "reason": f"many {kind} changes"}))
                    continue
                events.extend(farm_event(row, names) for row in cursor.take(rows))
        return events

    def _job_events(self) -> list[Event]:
        jobs = self._jobs
        assert jobs is not None
        with self.databases.buildapi_db.connect() as connection:
            followed = jobs_to_follow(connection, jobs.newest_id)
            gone = jobs.open - {job.id for job in followed}
            answered = jobs_by_id(connection, sorted(gone)) if gone else []
        done = [job for job in followed + answered if job.state == COMPLETE]
        jobs.open = {job.id for job in followed if job.state != COMPLETE}
        jobs.newest_id = max([jobs.newest_id, *(job.id for job in followed)])
        return [job_event(job) for job in sorted(done, key=lambda job: job.id)]

    def _digest(self) -> str:
        """The same text in every process that has seen the same changes, so workers sharing
        a Redis cache share entries too."""
        jobs = self._jobs
        assert jobs is not None
        seen = [(kind, c.newest, sorted(c.told)) for kind, c in sorted(self._cursors.items())]
        state = repr((seen, jobs.newest_id, sorted(jobs.open)))
        return format(zlib.crc32(state.encode()), "08x")


def state_of(kind: str, results: int | None) -> str:
    if kind == "submitted":
        return "pending"
    if kind == "started":
        return "running"
    return "cancelled" if results == Result.CANCELLED else "finished"


def farm_event(row: FarmChange, branch_names: Sequence[str]) -> Event:
    """A `build` event for a build row, a `request` event for a request row."""
    state = state_of(row.kind, row.results)
    data: dict[str, Any] = {
        "branch": short_branch(branch_names, row.branch),
        "revision": row.revision,
        "buildername": row.buildername,
        "state": state,
        "time": row.time,
    }
    if state in ("finished", "cancelled"):
        data["result"] = row.results
    if row.kind in BUILD_KINDS:
        return "build", {
            "type": "build",
            "build_id": row.id,
            "request_ids": [row.request_id],
            **data,
        }
    return "request", {"type": "request", "request_id": row.id, **data}


def job_event(job: JobState) -> Event:
    body = (job.complete_data or {}).get("body") or {}
    return "job", {
        "type": "job",
        "job_id": job.id,
        "action": job.action,
        "branch": job.branch,
        "state": job.state,
        "errors": body.get("errors"),
        "msg": body.get("msg"),
    }
