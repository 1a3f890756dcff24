"""Wait-time rows: one per build request of a pool submitted in a window, streamed.

Each row carries what the report needs and nothing more: the builder, when the job was asked
for (the push time, or the submission time when the request has no change), when its first
build started, and whether it has a change. Correlated subqueries on indexed columns (builds by
request, changes by sourcestamp) replace the legacy GROUP BY over a five-table join.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, and_, exists, false, func, not_, or_, select
from sqlalchemy.sql.elements import ColumnElement

from buildapi.db.queries.live import escape_like
from buildapi.db.queries.seconds import whole_seconds
from buildapi.db.schema.scheduler import (
    buildrequests,
    builds,
    buildsets,
    changes,
    sourcestamp_changes,
)
from buildapi.vocabulary import FORCE_BUILD_BUTTON, REBUILD_BUTTON, REBUILT

# Rebuilds and forced builds say nothing about how long pushes wait.
EXCLUDED_REASONS = (f"{FORCE_BUILD_BUTTON}%", f"{REBUILD_BUTTON}%", f"%{REBUILT}%")
EXCLUDED_BUILDERS = ("fuzzer-%", "nanojit-%", "release-%", "valgrind%")
DONTBUILD = "%DONTBUILD%"


@dataclass(frozen=True)
class WaitRow:
    buildername: str
    requested_at: int
    first_start: int | None
    has_change: bool


@dataclass(frozen=True)
class PoolFilter:
    """A pool's requests: those claimed by one of its masters (`db_name` prefixes), and the
    unclaimed, incomplete ones of its builders."""

    master_db_names: Sequence[str]
    builders: Sequence[str]

    def clause(self) -> ColumnElement[bool]:
        claimed = [
            buildrequests.c.claimed_by_name.like(f"{escape_like(name)}%", escape="\\")
            for name in self.master_db_names
        ]
        waiting = and_(
            buildrequests.c.claimed_by_name.is_(None),
            buildrequests.c.complete == 0,
            buildrequests.c.buildername.in_(self.builders) if self.builders else false(),
        )
        return or_(waiting, *claimed)


def wait_rows(
    connection: Connection, starttime: float, endtime: float, pool: PoolFilter
) -> Iterator[WaitRow]:
    """Requests whose buildset was submitted in [starttime, endtime), in no particular order.
    A request is left out when its buildset is a rebuild or a forced build, when its builder is
    of an excluded family, or when one of its changes says DONTBUILD; requests without any
    change stay in (legacy SQL lost them to NULL comparisons)."""
    change_links = and_(
        sourcestamp_changes.c.sourcestampid == buildsets.c.sourcestampid,
        changes.c.changeid == sourcestamp_changes.c.changeid,
    )
    push_time = (
        select(whole_seconds(func.min(changes.c.when_timestamp)))
        .where(change_links)
        .correlate(buildsets)
        .scalar_subquery()
    )
    dontbuild = (
        exists().where(change_links, changes.c.comments.like(DONTBUILD)).correlate(buildsets)
    )
    first_start = (
        select(whole_seconds(func.min(builds.c.start_time)))
        .where(builds.c.brid == buildrequests.c.id)
        .correlate(buildrequests)
        .scalar_subquery()
    )
    query = (
        select(
            buildrequests.c.buildername,
            whole_seconds(buildrequests.c.submitted_at),
            push_time,
            first_start,
        )
        .join(buildsets, buildsets.c.id == buildrequests.c.buildsetid)
        .where(
            buildsets.c.submitted_at >= starttime,
            buildsets.c.submitted_at < endtime,
            pool.clause(),
            not_(dontbuild),
            *(not_(buildrequests.c.buildername.like(pattern)) for pattern in EXCLUDED_BUILDERS),
            or_(
                buildsets.c.reason.is_(None),
                and_(*(not_(buildsets.c.reason.like(reason)) for reason in EXCLUDED_REASONS)),
            ),
        )
    )
    result = connection.execution_options(stream_results=True, yield_per=2000).execute(query)
    for buildername, submitted_at, pushed_at, started in result:
        yield WaitRow(
            buildername=buildername,
            requested_at=pushed_at if pushed_at is not None else submitted_at,
            first_start=started,
            has_change=pushed_at is not None,
        )
