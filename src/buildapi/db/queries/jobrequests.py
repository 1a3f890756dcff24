"""Job requests: the self-serve audit log and the state of each request."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from buildapi.db.schema.buildapi import jobrequests

RECORDED, PUBLISHED, COMPLETE = "recorded", "published", "complete"


@dataclass(frozen=True)
class JobFilter:
    who: str | None = None
    action: str | None = None
    branch: str | None = None
    state: str | None = None


@dataclass(frozen=True)
class JobRow:
    id: int
    action: str
    who: str
    when: int
    completed_at: int | None
    what: Any
    complete_data: Any
    state: str
    branch: str | None


JOB_COLUMNS = (
    jobrequests.c.id,
    jobrequests.c.action,
    jobrequests.c.who,
    jobrequests.c.when,
    jobrequests.c.completed_at,
    jobrequests.c.what,
    jobrequests.c.complete_data,
    jobrequests.c.state,
    jobrequests.c.branch,
)


def _job(row: Any) -> JobRow:
    """Unpacked by position (JOB_COLUMNS): reading a row's values by name costs more than
    the rest of the work on it."""
    job_id, action, who, when, completed_at, what, complete_data, state, branch = row
    return JobRow(
        id=job_id,
        action=action,
        who=who,
        when=when,
        completed_at=completed_at,
        what=json.loads(what) if what else None,
        complete_data=json.loads(complete_data) if complete_data else None,
        state=state,
        branch=branch,
    )


def list_jobs(connection: Connection, num: int, offset: int, where: JobFilter) -> list[JobRow]:
    """Newest first."""
    query = select(*JOB_COLUMNS).order_by(jobrequests.c.when.desc(), jobrequests.c.id.desc())
    for name in ("who", "action", "branch", "state"):
        value = getattr(where, name)
        if value is not None:
            query = query.where(jobrequests.c[name] == value)
    return [_job(row) for row in connection.execute(query.limit(num).offset(offset)).all()]


def get_job(connection: Connection, job_id: int) -> JobRow | None:
    row = connection.execute(select(*JOB_COLUMNS).where(jobrequests.c.id == job_id)).first()
    return _job(row) if row else None


@dataclass(frozen=True)
class NewJob:
    action: str
    who: str
    branch: str | None
    what: dict[str, Any]
    when: int
    idempotency_key: str | None = None


def record_job(connection: Connection, job: NewJob) -> tuple[int, bool]:
    """Insert the job request and commit; a retry with the same (who, idempotency key) gets
    the first request's id back. Returns (id, whether this call created it)."""
    if job.idempotency_key is not None:
        earlier = _job_of_key(connection, job.who, job.idempotency_key)
        if earlier is not None:
            return earlier, False
    values = {
        "action": job.action,
        "who": job.who,
        "when": job.when,
        "what": json.dumps(job.what, sort_keys=True),
        "state": RECORDED,
        "branch": job.branch,
        "idempotency_key": job.idempotency_key,
        "attempts": 0,
    }
    try:
        with connection.begin():
            result = connection.execute(insert(jobrequests).values(**values))
    except IntegrityError:
        # Two retries raced; the other one recorded it.
        earlier = _job_of_key(connection, job.who, job.idempotency_key or "")
        if earlier is None:
            raise
        return earlier, False
    return int(result.inserted_primary_key[0]), True


def _job_of_key(connection: Connection, who: str, key: str) -> int | None:
    query = select(jobrequests.c.id).where(
        jobrequests.c.who == who, jobrequests.c.idempotency_key == key
    )
    with connection.begin():
        return connection.execute(query).scalar()


def mark_published(connection: Connection, job_id: int) -> None:
    """The broker has the message; a result that already arrived keeps `complete`."""
    with connection.begin():
        connection.execute(
            update(jobrequests)
            .where(jobrequests.c.id == job_id, jobrequests.c.state == RECORDED)
            .values(state=PUBLISHED, attempts=jobrequests.c.attempts + 1)
        )


def unpublished_jobs(connection: Connection, recorded_before: int, limit: int) -> list[JobRow]:
    """Job requests the broker never confirmed, oldest first (the outbox)."""
    query = (
        select(*JOB_COLUMNS)
        .where(jobrequests.c.state == RECORDED, jobrequests.c.when <= recorded_before)
        .order_by(jobrequests.c.id)
        .limit(limit)
    )
    with connection.begin():
        return [_job(row) for row in connection.execute(query)]


def complete_job(connection: Connection, job_id: int, message: dict[str, Any], now: int) -> bool:
    """Store the agent's answer; False when there is no such job. Repeating it is harmless:
    the first answer stays."""
    with connection.begin():
        result = connection.execute(
            update(jobrequests)
            .where(jobrequests.c.id == job_id, jobrequests.c.completed_at.is_(None))
            .values(completed_at=now, complete_data=json.dumps(message), state=COMPLETE)
        )
        if result.rowcount:
            return True
        found = connection.execute(select(jobrequests.c.id).where(jobrequests.c.id == job_id))
        return found.first() is not None


def nth_newest_write(connection: Connection, who: str, since: int, n: int) -> int | None:
    """When `who` made their n-th newest job request at or after `since`; None when they made
    fewer (the rate limit reads one row, whatever the limit)."""
    query = (
        select(jobrequests.c.when)
        .where(jobrequests.c.who == who, jobrequests.c.when >= since)
        .order_by(jobrequests.c.when.desc())
        .offset(n - 1)
        .limit(1)
    )
    with connection.begin():
        return connection.execute(query).scalar()


def count_by_state(connection: Connection) -> dict[str, int]:
    query = select(jobrequests.c.state, func.count()).group_by(jobrequests.c.state)
    with connection.begin():
        return {state: count for state, count in connection.execute(query)}
