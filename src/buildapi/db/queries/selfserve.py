"""Self-serve reads: builds and requests of a branch by day, revision, id or author."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, Select, case, exists, null, select

from buildapi.db.queries.actions import build_is_over
from buildapi.db.queries.live import BranchFilter, sourcestamps_of_revision
from buildapi.db.queries.seconds import whole_seconds
from buildapi.db.schema.scheduler import (
    buildrequests,
    builds,
    buildset_properties,
    buildsets,
    changes,
    sourcestamp_changes,
    sourcestamps,
)

REQUEST_COLUMNS = (
    buildrequests.c.id,
    buildrequests.c.buildername,
    sourcestamps.c.branch,
    sourcestamps.c.revision,
    whole_seconds(buildrequests.c.submitted_at),
    buildrequests.c.complete,
    whole_seconds(buildrequests.c.complete_at),
    buildrequests.c.priority,
    whole_seconds(buildrequests.c.claimed_at),
    buildsets.c.reason,
    buildrequests.c.buildsetid,
    buildrequests.c.results,
    buildrequests.c.claimed_by_name,
    buildrequests.c.claimed_by_incarnation,
)


@dataclass(frozen=True)
class RequestRow:
    """A request with its sourcestamp and buildset; times in whole seconds."""

    id: int
    buildername: str
    branch: str | None
    revision: str | None
    submitted_at: int
    complete: int
    complete_at: int | None
    priority: int
    claimed_at: int
    reason: str | None
    buildsetid: int
    results: int | None
    claimed_by_name: str | None
    claimed_by_incarnation: str | None


@dataclass(frozen=True)
class BuildRow:
    """One `builds` row with its request (merged requests give several rows per build), and
    the master it ran on when the database still tells (`ran_on`)."""

    build_id: int
    number: int
    start_time: int
    finish_time: int | None
    master: str | None
    retried: bool  # its request ran again in a later build: this one ended in RETRY
    request: RequestRow

    @property
    def over(self) -> bool:
        return build_is_over(self.finish_time, self.request.complete)


def _requests() -> Select:
    return (
        select(*REQUEST_COLUMNS)
        .join(buildsets, buildsets.c.id == buildrequests.c.buildsetid)
        .join(sourcestamps, sourcestamps.c.id == buildsets.c.sourcestampid)
    )


def ran_on() -> ColumnElement[str | None]:
    """A builds row names no master; its request names the one that claimed it last, which ran
    the request's newest row. An earlier row of a retried request may have run on another
    master, and a requeued request names none: NULL for those."""
    return case((retried(), null()), else_=buildrequests.c.claimed_by_name)


def retried() -> ColumnElement[bool]:
    """Whether a later build ran the same request: Buildbot 0.8 runs a request again only
    after its build ended in RETRY."""
    later = builds.alias("later")
    return exists().where(later.c.brid == builds.c.brid, later.c.id > builds.c.id)


def _builds() -> Select:
    return (
        select(
            builds.c.id,
            builds.c.number,
            whole_seconds(builds.c.start_time),
            whole_seconds(builds.c.finish_time),
            ran_on(),
            retried(),
            *REQUEST_COLUMNS,
        )
        .join(buildrequests, buildrequests.c.id == builds.c.brid)
        .join(buildsets, buildsets.c.id == buildrequests.c.buildsetid)
        .join(sourcestamps, sourcestamps.c.id == buildsets.c.sourcestampid)
        .order_by(builds.c.id.desc())
    )


def _build_rows(connection: Connection, query: Select) -> list[BuildRow]:
    return [
        BuildRow(row[0], row[1], row[2], row[3], row[4], bool(row[5]), RequestRow(*row[6:]))
        for row in connection.execute(query).all()
    ]


def _pending(connection: Connection, query: Select) -> list[RequestRow]:
    query = query.where(buildrequests.c.claimed_at == 0, buildrequests.c.complete == 0)
    return [
        RequestRow(*row)
        for row in connection.execute(
            query.order_by(buildrequests.c.submitted_at.desc(), buildrequests.c.id.desc())
        ).all()
    ]


def builds_of_day(
    connection: Connection, branch: BranchFilter, start: int, end: int
) -> tuple[list[BuildRow], list[RequestRow]]:
    """Builds started in [start, end) and requests submitted then that are still pending."""
    in_branch = branch.clause(sourcestamps.c.branch)
    started = _builds().where(in_branch, builds.c.start_time >= start, builds.c.start_time < end)
    waiting = _requests().where(
        in_branch, buildrequests.c.submitted_at >= start, buildrequests.c.submitted_at < end
    )
    return _build_rows(connection, started), _pending(connection, waiting)


def builds_of_revision(
    connection: Connection, branch: BranchFilter, revision: str
) -> tuple[list[BuildRow], list[RequestRow]]:
    """Everything built or waiting for a revision (a 12-40 hex prefix)."""
    stamps = sourcestamps_of_revision(connection, branch, revision)
    matches = (sourcestamps.c.id.in_(stamps),)
    return (
        _build_rows(connection, _builds().where(*matches)),
        _pending(connection, _requests().where(*matches)),
    )


def builds_of_author(
    connection: Connection, branch: BranchFilter, author: str, limit: int
) -> tuple[list[BuildRow], list[RequestRow]]:
    pushed = (
        select(sourcestamp_changes.c.sourcestampid)
        .join(changes, changes.c.changeid == sourcestamp_changes.c.changeid)
        .where(changes.c.author == author)
    )
    matches = (branch.clause(sourcestamps.c.branch), sourcestamps.c.id.in_(pushed))
    return (
        _build_rows(connection, _builds().where(*matches).limit(limit)),
        _pending(connection, _requests().where(*matches).limit(limit)),
    )


def build_by_id(connection: Connection, branch: BranchFilter, build_id: int) -> BuildRow | None:
    rows = _build_rows(
        connection, _builds().where(branch.clause(sourcestamps.c.branch), builds.c.id == build_id)
    )
    return rows[0] if rows else None


def request_by_id(
    connection: Connection, branch: BranchFilter, request_id: int
) -> RequestRow | None:
    row = connection.execute(
        _requests().where(branch.clause(sourcestamps.c.branch), buildrequests.c.id == request_id)
    ).first()
    return RequestRow(*row) if row else None


def build_ids_of_request(connection: Connection, request_id: int) -> list[int]:
    rows = connection.execute(
        select(builds.c.id).where(builds.c.brid == request_id).order_by(builds.c.id)
    ).all()
    return [row[0] for row in rows]


def properties_of_buildsets(connection: Connection, bsids: Sequence[int]) -> dict[int, dict]:
    """Buildset properties, decoded from [value, source] to value, for several buildsets."""
    found: dict[int, dict] = {bsid: {} for bsid in bsids}
    rows = connection.execute(
        select(
            buildset_properties.c.buildsetid,
            buildset_properties.c.property_name,
            buildset_properties.c.property_value,
        ).where(buildset_properties.c.buildsetid.in_(sorted(set(bsids))))
    ).all()
    for bsid, name, raw in rows:
        try:
            found[bsid][name] = json.loads(raw)[0]
        except (ValueError, TypeError, IndexError, KeyError):
            found[bsid][name] = raw
    return found
