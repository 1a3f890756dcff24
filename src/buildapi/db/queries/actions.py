"""The self-serve agent's reads and writes on the scheduler database: its done-markers, and the
state of requests and builds it cancels, reprioritizes or rebuilds."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, update

from buildapi.db.queries.live import BranchFilter, sourcestamps_of_revision
from buildapi.db.schema.scheduler import (
    buildrequests,
    builds,
    buildsets,
    selfserve_actions,
)
from buildapi.vocabulary import Result


@dataclass(frozen=True)
class StoredOutcome:
    errors: bool
    msg: str


@dataclass(frozen=True)
class RequestState:
    """A build request as a cancel or reprioritize must see it, with its buildset's source."""

    id: int
    buildsetid: int
    buildername: str
    claimed_at: int
    claimed_by_name: str | None
    complete: int
    external_idstring: str | None
    sourcestampid: int


def build_is_over(finish_time: int | None, request_complete: int) -> bool:
    """Nothing is left to cancel of a build that finished or whose request is complete (a
    build still running for a cancelled request is stopped by the agent's race check)."""
    return finish_time is not None or bool(request_complete)


@dataclass(frozen=True)
class BuildState:
    """A `builds` row (one attempt at a request) with its request."""

    id: int
    number: int
    finish_time: int | None
    request: RequestState

    @property
    def over(self) -> bool:
        return build_is_over(self.finish_time, self.request.complete)


_REQUEST_COLUMNS = (
    buildrequests.c.id,
    buildrequests.c.buildsetid,
    buildrequests.c.buildername,
    buildrequests.c.claimed_at,
    buildrequests.c.claimed_by_name,
    buildrequests.c.complete,
    buildsets.c.external_idstring,
    buildsets.c.sourcestampid,
)


def _request_state(row: tuple) -> RequestState:
    brid, bsid, name, claimed_at, claimed_by, complete, external, ssid = row
    return RequestState(
        brid, bsid, name, claimed_at or 0, claimed_by, complete or 0, external, ssid
    )


def begin_action(connection: Connection, job_id: int, action: str, now: int) -> None:
    """Insert the done-marker first: a second agent on the same job blocks on the primary key
    until this transaction ends, then fails with IntegrityError instead of acting again."""
    connection.execute(
        insert(selfserve_actions).values(
            job_id=job_id, action=action, done_at=now, errors=1, msg=""
        )
    )


def end_action(connection: Connection, job_id: int, errors: bool, msg: str) -> None:
    connection.execute(
        update(selfserve_actions)
        .where(selfserve_actions.c.job_id == job_id)
        .values(errors=int(errors), msg=msg)
    )


def stored_outcome(connection: Connection, job_id: int) -> StoredOutcome | None:
    row = connection.execute(
        select(selfserve_actions.c.errors, selfserve_actions.c.msg).where(
            selfserve_actions.c.job_id == job_id
        )
    ).first()
    return StoredOutcome(bool(row[0]), row[1]) if row else None


def request_state(connection: Connection, brid: int) -> RequestState | None:
    row = connection.execute(
        select(*_REQUEST_COLUMNS)
        .join(buildsets, buildsets.c.id == buildrequests.c.buildsetid)
        .where(buildrequests.c.id == brid)
    ).first()
    return _request_state(tuple(row)) if row else None


def build_state(connection: Connection, build_id: int) -> BuildState | None:
    row = connection.execute(
        select(builds.c.id, builds.c.number, builds.c.finish_time, *_REQUEST_COLUMNS)
        .join(buildrequests, buildrequests.c.id == builds.c.brid)
        .join(buildsets, buildsets.c.id == buildrequests.c.buildsetid)
        .where(builds.c.id == build_id)
    ).first()
    if row is None:
        return None
    return BuildState(row[0], row[1], row[2], _request_state(tuple(row[3:])))


def live_build_number(connection: Connection, brid: int) -> int | None:
    """The number of the build running `brid` now; earlier (retried) attempts are finished."""
    return connection.execute(
        select(builds.c.number)
        .where(builds.c.brid == brid, builds.c.finish_time.is_(None))
        .order_by(builds.c.id.desc())
        .limit(1)
    ).scalar()


def set_priority_if_pending(connection: Connection, brid: int, priority: int) -> bool:
    """Priority only matters while a request waits; the guard keeps a claimed one untouched."""
    return _update_if_pending(connection, brid, priority=priority)


def cancel_if_pending(connection: Connection, brid: int, now: int) -> bool:
    """Complete a request as CANCELLED only if no master has claimed it: the same guard masters
    claim with, so exactly one of the two wins."""
    return _update_if_pending(
        connection, brid, complete=1, results=Result.CANCELLED, complete_at=now
    )


def _update_if_pending(connection: Connection, brid: int, **values: int) -> bool:
    changed = connection.execute(
        update(buildrequests)
        .where(
            buildrequests.c.id == brid,
            buildrequests.c.claimed_at == 0,
            buildrequests.c.complete == 0,
        )
        .values(**values)
    ).rowcount
    return changed == 1


def incomplete_requests_of_revision(
    connection: Connection, branch: BranchFilter, revision: str
) -> list[int]:
    """Ids of the incomplete requests whose sourcestamp is `revision` (a lower-case hex prefix)
    on `branch`, oldest first."""
    stamps = sourcestamps_of_revision(connection, branch, revision)
    if not stamps:
        return []
    rows = connection.execute(
        select(buildrequests.c.id)
        .join(buildsets, buildsets.c.id == buildrequests.c.buildsetid)
        .where(buildsets.c.sourcestampid.in_(stamps), buildrequests.c.complete == 0)
        .order_by(buildrequests.c.id)
    )
    return [row[0] for row in rows]


@dataclass(frozen=True)
class BuildEnd:
    """How a build ended: the result its master gave its request, or None when the master put
    the request back to be built again."""

    results: int | None


def build_end(connection: Connection, brid: int, number: int) -> BuildEnd | None:
    """How build `number` of request `brid` ended, or None while it runs. A master writes the
    build's finish before it completes the request, in two transactions; until the request's
    completion is as new as the finish, the end is not known yet."""
    row = connection.execute(
        select(
            builds.c.finish_time,
            buildrequests.c.complete,
            buildrequests.c.complete_at,
            buildrequests.c.results,
            buildrequests.c.claimed_at,
        )
        .join(buildrequests, buildrequests.c.id == builds.c.brid)
        .where(builds.c.brid == brid, builds.c.number == number)
        .order_by(builds.c.id.desc())
        .limit(1)
    ).first()
    if row is None or row.finish_time is None:
        return None
    if row.complete and row.complete_at is not None and row.complete_at >= row.finish_time:
        return BuildEnd(row.results)
    if not row.complete and not row.claimed_at:
        return BuildEnd(None)
    return None


def running_builds_of_cancelled(connection: Connection) -> list[tuple[RequestState, int]]:
    """Builds running for requests the agent cancelled (result 6, which only self-serve
    writes) that a master claimed anyway, with their numbers."""
    rows = connection.execute(
        select(*_REQUEST_COLUMNS, builds.c.number)
        .select_from(builds)
        .join(buildrequests, buildrequests.c.id == builds.c.brid)
        .join(buildsets, buildsets.c.id == buildrequests.c.buildsetid)
        .where(
            builds.c.finish_time.is_(None),
            buildrequests.c.complete == 1,
            buildrequests.c.results == Result.CANCELLED,
            buildrequests.c.claimed_at > 0,
        )
        .order_by(builds.c.id)
    ).all()
    return [(_request_state(tuple(row)[:-1]), row.number) for row in rows]
