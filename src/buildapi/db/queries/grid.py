"""The per-push grid: a page of a branch's pushes, newest first, then every job of their
revisions, in two statements whatever the number of pushes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, exists, select

from buildapi.db.queries.live import BranchFilter, escape_like
from buildapi.db.queries.seconds import whole_seconds
from buildapi.db.queries.selfserve import REQUEST_COLUMNS, RequestRow, ran_on, retried
from buildapi.db.schema.scheduler import (
    buildrequests,
    builds,
    buildsets,
    changes,
    sourcestamp_changes,
    sourcestamps,
)


@dataclass(frozen=True)
class PushRow:
    """A push by its tip change: the change whose revision its sourcestamp carries."""

    push_id: int  # the tip's change id: it grows with every push, so pages end at one
    revision: str
    author: str
    comments: str
    pushed_at: int


@dataclass(frozen=True)
class GridRow:
    """A request of a page's revision with one of its builds, or none yet (pending, or
    cancelled before it started). `ran_on` is None for a build whose request ran again."""

    request: RequestRow
    build_id: int | None
    number: int | None
    start_time: int | None
    finish_time: int | None
    ran_on: str | None
    retried: bool


def push_rows(
    connection: Connection,
    branch: BranchFilter,
    limit: int,
    before: int | None = None,
    author: str | None = None,
) -> list[PushRow]:
    """Up to `limit` pushes with a change id below `before`, newest first. Only pushes the
    schedulers built (a sourcestamp of the tip's revision holds the change) are listed;
    `author` matches part of the pusher's address."""
    scheduled = exists().where(
        sourcestamp_changes.c.changeid == changes.c.changeid,
        sourcestamps.c.id == sourcestamp_changes.c.sourcestampid,
        sourcestamps.c.revision == changes.c.revision,
    )
    query = (
        select(
            changes.c.changeid,
            changes.c.revision,
            changes.c.author,
            changes.c.comments,
            whole_seconds(changes.c.when_timestamp),
        )
        .where(branch.clause(changes.c.branch), scheduled)
        .order_by(changes.c.changeid.desc())
        .limit(limit)
    )
    if before is not None:
        query = query.where(changes.c.changeid < before)
    if author:
        query = query.where(changes.c.author.like(f"%{escape_like(author)}%", escape="\\"))
    return [PushRow(*row) for row in connection.execute(query).all()]


def grid_rows(
    connection: Connection, branch: BranchFilter, revisions: Sequence[str]
) -> list[GridRow]:
    """Every request on the branch's sourcestamps of `revisions` (pushes, the tests their
    builds triggered, rebuilds and periodic builds alike), by request then build."""
    if not revisions:
        return []
    query = (
        select(
            *REQUEST_COLUMNS,
            builds.c.id,
            builds.c.number,
            whole_seconds(builds.c.start_time),
            whole_seconds(builds.c.finish_time),
            ran_on(),
            retried(),
        )
        .select_from(buildrequests)
        .join(buildsets, buildsets.c.id == buildrequests.c.buildsetid)
        .join(sourcestamps, sourcestamps.c.id == buildsets.c.sourcestampid)
        .outerjoin(builds, builds.c.brid == buildrequests.c.id)
        .where(branch.clause(sourcestamps.c.branch), sourcestamps.c.revision.in_(revisions))
        .order_by(buildrequests.c.id, builds.c.id)
    )
    width = len(REQUEST_COLUMNS)
    return [
        GridRow(RequestRow(*row[:width]), *row[width : width + 5], bool(row[width + 5]))
        for row in connection.execute(query).all()
    ]
