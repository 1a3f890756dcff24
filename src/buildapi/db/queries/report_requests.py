"""Build-request rows for the end-to-end, build-run and try-chooser reports, streamed.

One row per (request, build, change): a request without a build or a change has NULLs there.
Rows come ordered by request, build and change, so the reports fold them into one object per
(request, build) in a single pass without holding the window in memory. Times are whole seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import Connection, exists, not_, or_, select
from sqlalchemy.sql.elements import ColumnElement

from buildapi.db.queries.live import BranchFilter, revision_prefix, sourcestamps_of_revision
from buildapi.db.queries.seconds import whole_seconds
from buildapi.db.schema.scheduler import (
    buildrequests,
    builds,
    buildsets,
    changes,
    sourcestamp_changes,
    sourcestamps,
)


class RequestRow(NamedTuple):
    brid: int
    bid: int | None
    number: int | None
    start_time: int | None
    finish_time: int | None
    buildsetid: int
    buildername: str
    claimed_at: int | None
    claimed_by_name: str | None
    complete: int | None
    complete_at: int | None
    results: int | None
    submitted_at: int
    reason: str | None
    changeid: int | None
    author: str | None
    comments: str | None
    category: str | None
    project: str | None
    repository: str | None
    changes_revision: str | None
    revlink: str | None
    when_timestamp: int | None
    branch: str | None
    revision: str | None
    ssid: int


@dataclass(frozen=True)
class PendingChange:
    """A change no sourcestamp carries yet: its push has not been scheduled."""

    changeid: int
    revision: str | None
    branch: str | None
    author: str
    when_timestamp: int


@dataclass(frozen=True)
class Scope:
    """Which requests a report reads: a branch (None: every branch) or one builder, and a time
    window or a revision prefix."""

    branch: BranchFilter | None
    starttime: float | None = None
    endtime: float | None = None
    revision: str | None = None
    buildername: str | None = None


def _columns() -> tuple:
    return (
        buildrequests.c.id,
        builds.c.id,
        builds.c.number,
        whole_seconds(builds.c.start_time),
        whole_seconds(builds.c.finish_time),
        buildrequests.c.buildsetid,
        buildrequests.c.buildername,
        whole_seconds(buildrequests.c.claimed_at),
        buildrequests.c.claimed_by_name,
        buildrequests.c.complete,
        whole_seconds(buildrequests.c.complete_at),
        buildrequests.c.results,
        whole_seconds(buildrequests.c.submitted_at),
        buildsets.c.reason,
        changes.c.changeid,
        changes.c.author,
        changes.c.comments,
        changes.c.category,
        changes.c.project,
        changes.c.repository,
        changes.c.revision,
        changes.c.revlink,
        whole_seconds(changes.c.when_timestamp),
        sourcestamps.c.branch,
        sourcestamps.c.revision,
        sourcestamps.c.id,
    )


def _window(column: ColumnElement, starttime: float | None, endtime: float | None) -> list:
    bounds = []
    if starttime is not None:
        bounds.append(column >= starttime)
    if endtime is not None:
        bounds.append(column < endtime)
    return bounds


def request_rows(connection: Connection, scope: Scope) -> Iterator[RequestRow]:
    """The scope's rows. A row is in the window when its change was pushed in it or its
    request was submitted in it (either end may come from either time, as legacy did)."""
    query = (
        select(*_columns())
        .select_from(buildrequests)
        .join(buildsets, buildsets.c.id == buildrequests.c.buildsetid)
        .join(sourcestamps, sourcestamps.c.id == buildsets.c.sourcestampid)
        .outerjoin(builds, builds.c.brid == buildrequests.c.id)
        .outerjoin(sourcestamp_changes, sourcestamp_changes.c.sourcestampid == sourcestamps.c.id)
        .outerjoin(changes, changes.c.changeid == sourcestamp_changes.c.changeid)
        .order_by(buildrequests.c.id, builds.c.id, changes.c.changeid)
    )
    if scope.revision is not None and scope.branch is not None:
        stamps = sourcestamps_of_revision(connection, scope.branch, scope.revision)
        query = query.where(sourcestamps.c.id.in_(stamps))
    elif scope.branch is not None:
        query = query.where(scope.branch.clause(sourcestamps.c.branch))
    if scope.buildername is not None:
        query = query.where(buildrequests.c.buildername == scope.buildername)
    if scope.starttime is not None:
        query = query.where(
            or_(
                changes.c.when_timestamp >= scope.starttime,
                buildrequests.c.submitted_at >= scope.starttime,
            )
        )
    if scope.endtime is not None:
        query = query.where(
            or_(
                changes.c.when_timestamp < scope.endtime,
                buildrequests.c.submitted_at < scope.endtime,
            )
        )
    result = connection.execution_options(stream_results=True, yield_per=2000).execute(query)
    for row in result:
        yield RequestRow._make(row)


def builder_requested(connection: Connection, buildername: str) -> bool:
    """Whether any request ever named this builder."""
    query = select(buildrequests.c.id).where(buildrequests.c.buildername == buildername)
    return connection.execute(query.limit(1)).first() is not None


def pending_changes(connection: Connection, scope: Scope) -> Iterator[PendingChange]:
    """Changes of the scope that no sourcestamp carries, oldest first."""
    carried = exists().where(sourcestamp_changes.c.changeid == changes.c.changeid)
    query = (
        select(
            changes.c.changeid,
            changes.c.revision,
            changes.c.branch,
            changes.c.author,
            whole_seconds(changes.c.when_timestamp),
        )
        .where(scope.branch.clause(changes.c.branch), not_(carried))
        .order_by(changes.c.when_timestamp, changes.c.changeid)
    )
    if scope.revision is not None:
        query = query.where(revision_prefix(changes.c.revision, scope.revision))
    query = query.where(*_window(changes.c.when_timestamp, scope.starttime, scope.endtime))
    result = connection.execution_options(stream_results=True, yield_per=2000).execute(query)
    for row in result:
        yield PendingChange(*row)
