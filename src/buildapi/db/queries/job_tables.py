"""The tables of the day and revision pages: pending requests, running builds and finished
builds, filtered, counted, sorted and paged in SQL, so a day of tens of thousands of jobs
answers one page without reading the rest.

A page runs through the three tables in that order: rows `offset` to `offset + limit` of
pending, then running, then finished. Unlike the JSON (one object per physical build), a row
here is one `builds` row: requests merged into one build show it on each of their rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Connection, Select, false, func, select

from buildapi.db.queries.live import BranchFilter, escape_like, sourcestamps_of_revision
from buildapi.db.queries.selfserve import (
    BuildRow,
    RequestRow,
    build_rows,
    builds_query,
    requests_query,
)
from buildapi.db.schema.scheduler import (
    buildrequests,
    builds,
    buildsets,
    changes,
    sourcestamp_changes,
    sourcestamps,
)

STATES = ("pending", "running", "finished")

# Sort keys of the query parameter -> the column of each table ("time": submitted or started).
_REQUEST_SORTS = {
    "id": buildrequests.c.id,
    "builder": buildrequests.c.buildername,
    "revision": sourcestamps.c.revision,
    "time": buildrequests.c.submitted_at,
    "priority": buildrequests.c.priority,
}
_BUILD_SORTS = {
    "id": builds.c.id,
    "builder": buildrequests.c.buildername,
    "revision": sourcestamps.c.revision,
    "time": builds.c.start_time,
    "ended": builds.c.finish_time,
    "result": buildrequests.c.results,
}
SORT_KEYS = tuple(dict.fromkeys([*_REQUEST_SORTS, *_BUILD_SORTS]))


@dataclass(frozen=True)
class Scope:
    """Which jobs a page is about: sourcestamps matching `stamps`, and for a day, requests
    submitted and builds started in [start, end)."""

    stamps: ColumnElement[bool]
    window: tuple[int, int] | None = None


@dataclass(frozen=True)
class TableFilter:
    """Each field narrows the rows when set. `builder` is a case-blind substring, `builders`
    an exact set (a platform's builders), `result` a finished build's result code, `author`
    the exact author of a change of the push."""

    builder: str | None = None
    builders: frozenset[str] | None = None
    result: int | None = None
    state: str | None = None
    author: str | None = None


@dataclass(frozen=True)
class Sort:
    key: str = "time"
    descending: bool = True


@dataclass(frozen=True)
class TablePage:
    counts: dict[str, int]
    offset: int
    pending: list[RequestRow] = field(default_factory=list)
    running: list[BuildRow] = field(default_factory=list)
    finished: list[BuildRow] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def shown(self) -> int:
        return len(self.pending) + len(self.running) + len(self.finished)


def _narrowed(query: Select, scope: Scope, where: TableFilter, time_column) -> Select:  # type: ignore[no-untyped-def]
    query = query.where(scope.stamps)
    if scope.window is not None:
        query = query.where(time_column >= scope.window[0], time_column < scope.window[1])
    if where.builder:
        pattern = f"%{escape_like(where.builder)}%"
        query = query.where(buildrequests.c.buildername.ilike(pattern, escape="\\"))
    if where.builders is not None:
        query = query.where(buildrequests.c.buildername.in_(sorted(where.builders)))
    if where.author is not None:
        pushed = (
            select(sourcestamp_changes.c.sourcestampid)
            .join(changes, changes.c.changeid == sourcestamp_changes.c.changeid)
            .where(changes.c.author == where.author)
        )
        query = query.where(sourcestamps.c.id.in_(pushed))
    return query


def _state_query(query: Select, state: str, scope: Scope, where: TableFilter) -> Select:
    """`query` (requests or builds) narrowed to one table's rows."""
    if where.state not in (None, state) or (where.result is not None and state != "finished"):
        return query.where(false())
    if state == "pending":
        query = query.where(buildrequests.c.claimed_at == 0, buildrequests.c.complete == 0)
        return _narrowed(query, scope, where, buildrequests.c.submitted_at)
    over = builds.c.finish_time.is_not(None)
    query = query.where(over if state == "finished" else ~over)
    if where.result is not None:
        query = query.where(buildrequests.c.results == where.result)
    return _narrowed(query, scope, where, builds.c.start_time)


def _counted(state: str) -> Select:
    """COUNT over the joins alone: the page query's columns include correlated subqueries
    that a count need not run."""
    stamped = buildsets.join(sourcestamps, sourcestamps.c.id == buildsets.c.sourcestampid)
    requests = buildrequests.join(stamped, buildsets.c.id == buildrequests.c.buildsetid)
    if state == "pending":
        return select(func.count()).select_from(requests)
    return select(func.count()).select_from(
        builds.join(requests, buildrequests.c.id == builds.c.brid)
    )


def count_rows(connection: Connection, scope: Scope, where: TableFilter) -> dict[str, int]:
    """Rows of each table that the filter leaves."""
    return {
        state: int(
            connection.execute(_state_query(_counted(state), state, scope, where)).scalar() or 0
        )
        for state in STATES
    }


def _ordered(query: Select, sorts: dict, sort: Sort, tiebreak) -> Select:  # type: ignore[no-untyped-def]
    column = sorts.get(sort.key, sorts["time"])
    if sort.descending:
        return query.order_by(column.desc(), tiebreak.desc())
    return query.order_by(column.asc(), tiebreak.asc())


def page_rows(
    connection: Connection,
    scope: Scope,
    where: TableFilter,
    sort: Sort,
    offset: int,
    limit: int,
) -> TablePage:
    """Rows `offset` to `offset + limit` of pending, then running, then finished."""
    counts = count_rows(connection, scope, where)
    page = TablePage(counts=counts, offset=offset)
    skip, room = offset, limit
    for state in STATES:
        available = counts[state] - skip
        if available <= 0:
            skip -= counts[state]
            continue
        if room <= 0:
            break
        take = min(room, available)
        _fill(connection, page, state, _state_page(state, scope, where, sort, skip, take))
        room, skip = room - take, 0
    return page


def _state_page(
    state: str, scope: Scope, where: TableFilter, sort: Sort, start: int, wanted: int
) -> Select:
    """The ids of one table's slice. Sorting ids alone, then reading the full rows of the
    page, keeps the full rows' correlated subqueries off the rows the sort skips."""
    if state == "pending":
        ids = _ordered(_keyed(buildrequests.c.id), _REQUEST_SORTS, sort, buildrequests.c.id)
    else:
        ids = _ordered(_keyed(builds.c.id, built=True), _BUILD_SORTS, sort, builds.c.id)
    return _state_query(ids, state, scope, where).offset(start).limit(wanted)


def _keyed(key, built: bool = False) -> Select:  # type: ignore[no-untyped-def]
    return _counted("finished" if built else "pending").with_only_columns(key)


def _fill(connection: Connection, page: TablePage, state: str, ids: Select) -> None:
    order = [row[0] for row in connection.execute(ids).all()]
    if state == "pending":
        query = requests_query().where(buildrequests.c.id.in_(order))
        found = {row.id: row for row in (RequestRow(*r) for r in connection.execute(query).all())}
        page.pending.extend(found[key] for key in order)
        return
    rows = build_rows(connection, builds_query().where(builds.c.id.in_(order)))
    by_id = {row.build_id: row for row in rows}
    getattr(page, state).extend(by_id[key] for key in order)


def day_scope(branch: BranchFilter, start: int, end: int) -> Scope:
    return Scope(branch.clause(sourcestamps.c.branch), (start, end))


def branch_scope(branch: BranchFilter) -> Scope:
    """Every job of the branch, for pages a filter narrows (a user's builds)."""
    return Scope(branch.clause(sourcestamps.c.branch))


def revision_scope(connection: Connection, branch: BranchFilter, revision: str) -> Scope:
    """The sourcestamps of a revision prefix, looked up first as `builds_of_revision` does."""
    return Scope(sourcestamps.c.id.in_(sourcestamps_of_revision(connection, branch, revision)))


@dataclass(frozen=True)
class Change:
    """A change of a push, as the master recorded it."""

    author: str
    comments: str
    revision: str | None
    when: int


def authors_of_buildsets(connection: Connection, bsids: Iterable[int]) -> dict[int, list[str]]:
    """Buildset id -> the authors of its changes, each once, in change order."""
    query = (
        select(buildsets.c.id, changes.c.author)
        .join(sourcestamp_changes, sourcestamp_changes.c.sourcestampid == buildsets.c.sourcestampid)
        .join(changes, changes.c.changeid == sourcestamp_changes.c.changeid)
        .where(buildsets.c.id.in_(sorted(set(bsids))))
        .order_by(changes.c.changeid)
    )
    found: dict[int, list[str]] = {}
    for bsid, author in connection.execute(query).all():
        authors = found.setdefault(bsid, [])
        if author not in authors:
            authors.append(author)
    return found


def changes_of_scope(connection: Connection, scope: Scope) -> list[Change]:
    """The changes of the scope's sourcestamps (a revision's push), oldest first."""
    query = (
        select(changes.c.author, changes.c.comments, changes.c.revision, changes.c.when_timestamp)
        .where(
            changes.c.changeid.in_(
                select(sourcestamp_changes.c.changeid)
                .join(sourcestamps, sourcestamps.c.id == sourcestamp_changes.c.sourcestampid)
                .where(scope.stamps)
            )
        )
        .order_by(changes.c.changeid)
    )
    return [Change(*row) for row in connection.execute(query).all()]
