"""What changed in the scheduler database after a time: new and completed requests, started
and finished builds. Each kind is read through the index on its time column; the event feed
turns the rows into events."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, Select, func, literal, select

from buildapi.db.schema.scheduler import buildrequests, builds, buildsets, sourcestamps


@dataclass(frozen=True)
class FarmChange:
    """One row that changed: `id` is the request's (kinds `submitted`, `completed`) or the
    build's (`started`, `finished`); `request_id` is the request it belongs to."""

    kind: str
    id: int
    time: float
    request_id: int
    branch: str | None
    revision: str | None
    buildername: str
    results: int | None


# kind -> the time column it is read by; the build kinds' rows are builds, the others requests.
TIME_COLUMNS: dict[str, ColumnElement] = {
    "submitted": buildrequests.c.submitted_at,
    "completed": buildrequests.c.complete_at,
    "started": builds.c.start_time,
    "finished": builds.c.finish_time,
}
BUILD_KINDS = {"started", "finished"}


def _query(kind: str) -> Select:
    time = TIME_COLUMNS[kind]
    row_id = builds.c.id if kind in BUILD_KINDS else buildrequests.c.id
    query = select(
        literal(kind),
        row_id,
        time,
        buildrequests.c.id,
        sourcestamps.c.branch,
        sourcestamps.c.revision,
        buildrequests.c.buildername,
        buildrequests.c.results,
    )
    if kind in BUILD_KINDS:
        query = query.select_from(builds).join(buildrequests, buildrequests.c.id == builds.c.brid)
    return query.join(buildsets, buildsets.c.id == buildrequests.c.buildsetid).join(
        sourcestamps, sourcestamps.c.id == buildsets.c.sourcestampid
    )


def changed_after(
    connection: Connection, kind: str, after: float, since: float, limit: int
) -> list[FarmChange]:
    """Rows of `kind` whose time is after `after` and at least `since`, oldest first."""
    time = TIME_COLUMNS[kind]
    query = _query(kind).where(time > after, time >= since).order_by(time).limit(limit)
    return [FarmChange(*row) for row in connection.execute(query).all()]


def newest_time(connection: Connection, kind: str) -> float:
    """The newest time of `kind` (0 when there is none): where a new feed starts."""
    return float(connection.execute(select(func.max(TIME_COLUMNS[kind]))).scalar() or 0)
