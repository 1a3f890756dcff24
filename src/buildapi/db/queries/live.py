"""What the farm is doing now: pending requests and running builds, for views and dumps."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, and_, func, or_, select

from buildapi.db.queries.seconds import whole_seconds
from buildapi.db.schema.scheduler import (
    buildrequests,
    builds,
    buildsets,
    changes,
    sourcestamp_changes,
    sourcestamps,
)


def escape_like(text: str) -> str:
    """User text made literal inside a LIKE pattern (with ESCAPE '\\')."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class BranchFilter:
    """A branch as sourcestamps name it: its short name, its repository path, or a path whose
    last segment is the short name. No substring matching on user input."""

    name: str
    repo_path: str

    def clause(self, column) -> ColumnElement[bool]:  # type: ignore[no-untyped-def]
        return or_(
            column == self.name,
            column == self.repo_path,
            column.like(f"%/{escape_like(self.name)}", escape="\\"),
        )


def revision_prefix(column, prefix: str) -> ColumnElement[bool]:  # type: ignore[no-untyped-def]
    """Revisions starting with a lower-case hex `prefix`. The range lets every engine use the
    revision index (SQLite's case-blind LIKE cannot); the LIKE keeps MySQL's and PostgreSQL's
    prefix plans."""
    following = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return and_(column >= prefix, column < following, column.startswith(prefix))


def sourcestamps_of_revision(
    connection: Connection, branch: BranchFilter, revision: str
) -> list[int]:
    """Found first, through the revision index, so the joins start from a few sourcestamps
    instead of scanning every build newest first."""
    query = select(sourcestamps.c.id).where(
        branch.clause(sourcestamps.c.branch), revision_prefix(sourcestamps.c.revision, revision)
    )
    return [row[0] for row in connection.execute(query).all()]


PendingRow = tuple[int, str | None, str | None, str, int, int]
"""id, sourcestamp branch, revision, buildername, submitted_at, priority (for the pages'
sooner/later buttons; the JSON has none). Rows as they come: these views
read thousands of rows and shape them straight into JSON. Times here and below are whole
seconds (`whole_seconds`)."""

RunningRow = tuple[int, int, str | None, str | None, str, int, int, str | None, int, int]
"""build id, request id, sourcestamp branch, revision, buildername, submitted_at,
claimed_at (the last heartbeat), claimed_by_name, start_time, number."""


def physical_build(
    master: str | None, buildername: str, number: int, build_id: int
) -> tuple[str | int, ...]:
    """The build a `builds` row belongs to: master, builder and number (a number is unique per
    master and builder). A master writes one row per merged request, each with its own start
    time, so the start time is no part of it. A row whose master is not known (None: its
    request was requeued, or ran again since) stands alone rather than join another master's
    build of the same number."""
    if master is None:
        return (build_id,)
    return (master, buildername, number)


def pending_rows(
    connection: Connection, branch: BranchFilter | None = None
) -> Sequence[PendingRow]:
    """In request id order. Read with `.all()`, as every read of many rows here: iterating
    a result fetches the rows one DBAPI call at a time, which costs more than the query."""
    query = (
        select(
            buildrequests.c.id,
            sourcestamps.c.branch,
            sourcestamps.c.revision,
            buildrequests.c.buildername,
            whole_seconds(buildrequests.c.submitted_at),
            buildrequests.c.priority,
        )
        .join(buildsets, buildsets.c.id == buildrequests.c.buildsetid)
        .join(sourcestamps, sourcestamps.c.id == buildsets.c.sourcestampid)
        .where(buildrequests.c.claimed_at == 0, buildrequests.c.complete == 0)
        .order_by(buildrequests.c.id)
    )
    if branch is not None:
        query = query.where(branch.clause(sourcestamps.c.branch))
    return connection.execute(query).all()


def running_rows(
    connection: Connection, branch: BranchFilter | None = None
) -> Sequence[RunningRow]:
    """One row per request of a running build, in request id order; earlier (retried)
    attempts are left out, so `claimed_by_name` is the master each row runs on."""
    query = (
        select(
            builds.c.id,
            buildrequests.c.id,
            sourcestamps.c.branch,
            sourcestamps.c.revision,
            buildrequests.c.buildername,
            whole_seconds(buildrequests.c.submitted_at),
            whole_seconds(buildrequests.c.claimed_at),
            buildrequests.c.claimed_by_name,
            whole_seconds(builds.c.start_time),
            builds.c.number,
        )
        .join(buildrequests, buildrequests.c.id == builds.c.brid)
        .join(buildsets, buildsets.c.id == buildrequests.c.buildsetid)
        .join(sourcestamps, sourcestamps.c.id == buildsets.c.sourcestampid)
        .where(
            buildrequests.c.claimed_at > 0,
            buildrequests.c.complete == 0,
            builds.c.finish_time.is_(None),
        )
        .order_by(buildrequests.c.id)
    )
    if branch is not None:
        query = query.where(branch.clause(sourcestamps.c.branch))
    return connection.execute(query).all()


@dataclass(frozen=True)
class RevisionRow:
    """A request of a revision, with one of its builds when it has any."""

    id: int
    buildsetid: int
    buildername: str
    submitted_at: int
    claimed_at: int
    claimed_by_name: str | None
    results: int | None
    branch: str | None
    revision: str | None
    start_time: int | None
    finish_time: int | None
    number: int | None


def revision_rows(connection: Connection, branch: BranchFilter, revision: str) -> list[RevisionRow]:
    query = (
        select(
            buildrequests.c.id,
            buildrequests.c.buildsetid,
            buildrequests.c.buildername,
            whole_seconds(buildrequests.c.submitted_at),
            whole_seconds(buildrequests.c.claimed_at),
            buildrequests.c.claimed_by_name,
            buildrequests.c.results,
            sourcestamps.c.branch,
            sourcestamps.c.revision,
            whole_seconds(builds.c.start_time),
            whole_seconds(builds.c.finish_time),
            builds.c.number,
        )
        .join(buildsets, buildsets.c.id == buildrequests.c.buildsetid)
        .join(sourcestamps, sourcestamps.c.id == buildsets.c.sourcestampid)
        .outerjoin(builds, builds.c.brid == buildrequests.c.id)
        .where(sourcestamps.c.id.in_(sourcestamps_of_revision(connection, branch, revision)))
        .order_by(buildrequests.c.id, builds.c.id)
    )
    return [RevisionRow(*row) for row in connection.execute(query).all()]


def retried_flags(rows: Sequence[RevisionRow]) -> list[bool]:
    """Per row of revision_rows, whether its build ended in RETRY: its request has a later
    build (the rows come by request, then build), which Buildbot 0.8 runs only after a RETRY."""
    return [row.id == after.id for row, after in itertools.pairwise(rows)] + [False] * bool(rows)


# Test runs sent as changes of their own (`buildbot sendchange --branch <b>-<platform>-unittest`)
# are not pushes.
TEST_CHANGE_BRANCHES = ("%unittest", "%talos")


def push_counts(
    connection: Connection, branch: BranchFilter | None, start: int, end: int | None
) -> dict[str, int]:
    """Pushes per author: each distinct (revision, branch, author) is one push."""
    not_a_test_run = or_(
        changes.c.branch.is_(None),
        and_(*(changes.c.branch.not_like(pattern) for pattern in TEST_CHANGE_BRANCHES)),
    )
    pushes = (
        select(sourcestamps.c.revision, sourcestamps.c.branch, changes.c.author)
        .join(sourcestamp_changes, sourcestamp_changes.c.sourcestampid == sourcestamps.c.id)
        .join(changes, changes.c.changeid == sourcestamp_changes.c.changeid)
        .where(changes.c.when_timestamp >= start, not_a_test_run)
        .distinct()
    )
    if end is not None:
        pushes = pushes.where(changes.c.when_timestamp <= end)
    if branch is not None:
        pushes = pushes.where(branch.clause(changes.c.branch))
    inner = pushes.subquery()
    query = select(inner.c.author, func.count()).group_by(inner.c.author)
    return {author: count for author, count in connection.execute(query).all()}


def pending_by_builder(connection: Connection) -> dict[str, int]:
    """How many requests of each builder no master has claimed: one grouped count on the
    (complete, claimed_at) index, cheap enough for every metrics scrape."""
    return _count_by_builder(connection, buildrequests.c.claimed_at == 0)


def claimed_by_builder(connection: Connection) -> dict[str, int]:
    """How many requests of each builder a master has claimed and not completed (running)."""
    return _count_by_builder(connection, buildrequests.c.claimed_at > 0)


def _count_by_builder(connection: Connection, claimed: ColumnElement[bool]) -> dict[str, int]:
    query = (
        select(buildrequests.c.buildername, func.count())
        .where(buildrequests.c.complete == 0, claimed)
        .group_by(buildrequests.c.buildername)
    )
    return {name: count for name, count in connection.execute(query).all()}
