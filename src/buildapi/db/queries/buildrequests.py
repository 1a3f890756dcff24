"""Build requests and the builds that run them: the pending queue, claims, completion."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, func, insert, select, update

from buildapi.db.schema.scheduler import buildrequests, builds, buildsets, sourcestamps


@dataclass(frozen=True)
class QueuedRequest:
    """A pending request with what a master needs to choose and merge it."""

    id: int
    buildername: str
    priority: int
    submitted_at: float
    buildsetid: int
    sourcestampid: int
    branch: str | None
    revision: str | None


@dataclass(frozen=True)
class LiveBuild:
    """A `builds` row still running (finish_time NULL) with its request."""

    build_id: int
    number: int
    brid: int
    start_time: float
    buildername: str
    claimed_by_name: str | None


def pending_requests(connection: Connection) -> list[QueuedRequest]:
    """Every unclaimed, incomplete request: higher priority first, then oldest."""
    rows = connection.execute(
        select(
            buildrequests.c.id,
            buildrequests.c.buildername,
            buildrequests.c.priority,
            buildrequests.c.submitted_at,
            buildrequests.c.buildsetid,
            sourcestamps.c.id,
            sourcestamps.c.branch,
            sourcestamps.c.revision,
        )
        .join(buildsets, buildsets.c.id == buildrequests.c.buildsetid)
        .join(sourcestamps, sourcestamps.c.id == buildsets.c.sourcestampid)
        .where(buildrequests.c.claimed_at == 0, buildrequests.c.complete == 0)
        .order_by(
            buildrequests.c.priority.desc(),
            buildrequests.c.submitted_at,
            buildrequests.c.id,
        )
    )
    return [QueuedRequest(*row) for row in rows]


def claim_request(
    connection: Connection, brid: int, now: float, master: str, incarnation: str
) -> bool:
    """Claim one request; False when another master (or a cancel) got there first. The
    `claimed_at = 0 AND complete = 0` guard is what keeps two masters off one request."""
    claimed = connection.execute(
        update(buildrequests)
        .where(
            buildrequests.c.id == brid,
            buildrequests.c.claimed_at == 0,
            buildrequests.c.complete == 0,
        )
        .values(claimed_at=now, claimed_by_name=master, claimed_by_incarnation=incarnation)
    ).rowcount
    return claimed == 1


def insert_build(connection: Connection, brid: int, number: int, start_time: float) -> int:
    return int(
        connection.execute(
            insert(builds).values(number=number, brid=brid, start_time=start_time)
        ).inserted_primary_key[0]
    )


def refresh_claims(connection: Connection, brids: Sequence[int], now: float) -> None:
    """The heartbeat of a running build: masters keep `claimed_at` fresh."""
    connection.execute(
        update(buildrequests)
        .where(buildrequests.c.id.in_(brids), buildrequests.c.complete == 0)
        .values(claimed_at=now)
    )


def finish_builds(connection: Connection, build_ids: Sequence[int], now: float) -> None:
    connection.execute(
        update(builds)
        .where(builds.c.id.in_(build_ids), builds.c.finish_time.is_(None))
        .values(finish_time=now)
    )


def complete_requests(
    connection: Connection, brids: Sequence[int], results: int, now: float
) -> None:
    connection.execute(
        update(buildrequests)
        .where(buildrequests.c.id.in_(brids), buildrequests.c.complete == 0)
        .values(complete=1, results=results, complete_at=now)
    )


def requeue_requests(connection: Connection, brids: Sequence[int]) -> None:
    """After a RETRY the requests are pending again and will run in a new build."""
    connection.execute(
        update(buildrequests)
        .where(buildrequests.c.id.in_(brids), buildrequests.c.complete == 0)
        .values(claimed_at=0, claimed_by_name=None, claimed_by_incarnation=None)
    )


def live_builds(connection: Connection) -> list[LiveBuild]:
    """Running builds rows, e.g. to recover them after a master restart."""
    rows = connection.execute(
        select(
            builds.c.id,
            builds.c.number,
            builds.c.brid,
            builds.c.start_time,
            buildrequests.c.buildername,
            buildrequests.c.claimed_by_name,
        )
        .join(buildrequests, buildrequests.c.id == builds.c.brid)
        .where(builds.c.finish_time.is_(None), buildrequests.c.complete == 0)
        .order_by(builds.c.id)
    )
    return [LiveBuild(*row) for row in rows]


def request_buildsets(connection: Connection, brids: Sequence[int]) -> dict[int, int]:
    rows = connection.execute(
        select(buildrequests.c.id, buildrequests.c.buildsetid).where(buildrequests.c.id.in_(brids))
    )
    return {int(brid): int(bsid) for brid, bsid in rows}


def count_requests(connection: Connection) -> int:
    return int(connection.execute(select(func.count()).select_from(buildrequests)).scalar())
