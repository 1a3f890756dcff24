"""One very busy day on one branch, written straight into schedulerdb: pushes (changes and
sourcestamps), a buildset per push and a request per job, most of them built and finished, some
running, some still pending. It skips the farm's simulation, so a day of 30,000 jobs takes
seconds: for the day view's paging tests and benchmarks, not for reports (no statusdb rows)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from buildapi.db.engines import Databases
from buildapi.db.queries.bulk import BulkInserter, next_ids, sync_sequences
from buildapi.db.schema import scheduler_metadata
from buildapi.vocabulary import Result

JOBS_PER_PUSH = 100
AUTHORS = ("alice@example.com", "bob@example.org", "carol@example.net", "dan@example.com")
# Finished builds' results, as often as a busy integration branch sees them.
RESULT_MIX = (
    (Result.SUCCESS,) * 80
    + (Result.WARNINGS,) * 10
    + (Result.FAILURE,) * 6
    + (
        Result.EXCEPTION,
        Result.RETRY,
        Result.RETRY,
        Result.CANCELLED,
    )
)
MASTER = "buildbot-master01.example.com:/builds/buildbot/build1/master"


@dataclass(frozen=True)
class BigDay:
    """`jobs` requests of `branch` (its sourcestamp branch, e.g. its repository path), pushed
    between `start` and `end` epoch seconds; jobs pushed in the last `pending_share` and
    `running_share` of the day are still pending or running."""

    branch: str
    builders: Sequence[str]
    start: int
    end: int
    jobs: int
    pending_share: float = 0.03
    running_share: float = 0.03
    seed: int = 1


def write_big_day(databases: Databases, day: BigDay) -> int:
    """Insert the day's rows in one transaction, batched; returns the requests written."""
    with databases.schedulerdb.begin() as connection:
        rows = _DayRows(day, next_ids(connection, scheduler_metadata), random.Random(day.seed))
        out = BulkInserter(connection, scheduler_metadata)
        for push in range(-(-day.jobs // JOBS_PER_PUSH)):
            rows.add_push(out, push, min(JOBS_PER_PUSH, day.jobs - push * JOBS_PER_PUSH))
        out.flush()
        sync_sequences(connection, scheduler_metadata)
    return day.jobs


class _DayRows:
    """The next free id of each table, and the next build number of each builder."""

    def __init__(self, day: BigDay, ids: dict[str, int], chance: random.Random) -> None:
        self.day, self.ids, self.chance = day, ids, chance
        self.numbers: dict[str, int] = {}

    def take_id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table] - 1

    def add_push(self, out: BulkInserter, push: int, jobs: int) -> None:
        day = self.day
        pushes = -(-day.jobs // JOBS_PER_PUSH)
        when = day.start + (day.end - day.start) * push // pushes
        revision = f"{self.chance.getrandbits(160):040x}"
        change_id, stamp_id, buildset_id = (
            self.take_id(name) for name in ("changes", "sourcestamps", "buildsets")
        )
        out.add(
            "changes",
            {
                "changeid": change_id,
                "author": AUTHORS[push % len(AUTHORS)],
                "comments": f"Bug {100000 + push} - change number {push} of the day r=reviewer",
                "is_dir": 0,
                "branch": day.branch,
                "revision": revision,
                "revlink": None,
                "when_timestamp": when,
                "category": None,
                "repository": "",
                "project": "",
            },
        )
        out.add(
            "sourcestamps",
            {
                "id": stamp_id,
                "branch": day.branch,
                "revision": revision,
                "patchid": None,
                "repository": "",
                "project": "",
            },
        )
        out.add("sourcestamp_changes", {"sourcestampid": stamp_id, "changeid": change_id})
        out.add(
            "buildsets",
            {
                "id": buildset_id,
                "external_idstring": None,
                "reason": "scheduler",
                "sourcestampid": stamp_id,
                "submitted_at": when,
                "complete": 0,
                "complete_at": None,
                "results": None,
            },
        )
        age = (day.end - when) / max(day.end - day.start, 1)
        for job in range(jobs):
            builder = day.builders[job % len(day.builders)]
            self.add_job(out, buildset_id, builder, when + job, age)

    def add_job(
        self, out: BulkInserter, buildset_id: int, builder: str, submitted: int, age: float
    ) -> None:
        request_id = self.take_id("buildrequests")
        pending = age < self.day.pending_share
        running = not pending and age < self.day.pending_share + self.day.running_share
        started = submitted + 60
        finished = started + self.chance.randrange(300, 5400)
        if pending or running or finished > self.day.end:
            finished = None
        result = None if finished is None else self.chance.choice(RESULT_MIX)
        out.add(
            "buildrequests",
            {
                "id": request_id,
                "buildsetid": buildset_id,
                "buildername": builder,
                "priority": 0,
                "claimed_at": 0 if pending else (finished or started),
                "claimed_by_name": None if pending else MASTER,
                "claimed_by_incarnation": None if pending else "pid1-boot1",
                "complete": int(finished is not None),
                "results": result,
                "submitted_at": submitted,
                "complete_at": finished,
            },
        )
        if pending:
            return
        number = self.numbers.get(builder, 0)
        self.numbers[builder] = number + 1
        out.add(
            "builds",
            {
                "id": self.take_id("builds"),
                "number": number,
                "brid": request_id,
                "start_time": started,
                "finish_time": finished,
            },
        )
