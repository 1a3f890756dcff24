"""Job requests: the self-serve audit log and the state of each request."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, case, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from buildapi.db.queries.write_quotas import (
    Quota,
    add_quota_row,
    lock_quota,
    seconds_until_room,
    used_total,
    used_weight,
)
from buildapi.db.schema.buildapi import jobrequests

RECORDED, PUBLISHED, COMPLETE = "recorded", "published", "complete"
UNANSWERED = (RECORDED, PUBLISHED)


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


def _filtered(query: Select, where: JobFilter) -> Select:
    for name in ("who", "action", "branch", "state"):
        value = getattr(where, name)
        if value is not None:
            query = query.where(jobrequests.c[name] == value)
    return query


def list_jobs(connection: Connection, num: int, offset: int, where: JobFilter) -> list[JobRow]:
    """Newest first."""
    query = select(*JOB_COLUMNS).order_by(jobrequests.c.when.desc(), jobrequests.c.id.desc())
    query = _filtered(query, where).limit(num).offset(offset)
    return [_job(row) for row in connection.execute(query).all()]


def count_jobs(connection: Connection, where: JobFilter) -> int:
    query = _filtered(select(func.count()).select_from(jobrequests), where)
    return int(connection.execute(query).scalar() or 0)


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
    # What it costs of the user's quota: the number of builds it asks for.
    weight: int = 1


@dataclass(frozen=True)
class Recorded:
    id: int
    created: bool


@dataclass(frozen=True)
class KeyReused:
    """The idempotency key was used for another request: job `id`."""

    id: int


@dataclass(frozen=True)
class OverQuota:
    used: int
    retry_after: int


Outcome = Recorded | KeyReused | OverQuota


def record_job(connection: Connection, job: NewJob, quota: Quota) -> Outcome:
    """Insert and commit the job request if the user's quota has room for its weight, with
    the check and the insert under the user's lock row. A retry of the same request with the
    same (who, idempotency key) gets the first one back and counts nothing."""
    try:
        return _record(connection, job, quota)
    except IntegrityError:
        # Another worker added the user's quota row, or a job with this key, after we looked
        # (possible at isolation levels that read an older snapshot): look again.
        return _record(connection, job, quota)


def _record(connection: Connection, job: NewJob, quota: Quota) -> Outcome:
    with connection.begin():
        if lock_quota(connection, job.who, job.when):
            return _record_locked(connection, job, quota)
    add_quota_row(connection, job.who, job.when)
    return _record(connection, job, quota)


def _record_locked(connection: Connection, job: NewJob, quota: Quota) -> Outcome:
    if job.idempotency_key is not None:
        earlier = _job_of_key(connection, job)
        if earlier is not None:
            return earlier
    used = used_total(connection, job.who, job.when, quota)
    if used + job.weight > quota.limit:
        window = used_weight(connection, job.who, job.when, quota)
        return OverQuota(used, seconds_until_room(window, job.weight, job.when, quota))
    values = {
        "action": job.action,
        "who": job.who,
        "when": job.when,
        "what": _what_text(job.what),
        "state": RECORDED,
        "branch": job.branch,
        "idempotency_key": job.idempotency_key,
        "attempts": 0,
        "weight": job.weight,
    }
    result = connection.execute(insert(jobrequests).values(**values))
    return Recorded(int(result.inserted_primary_key[0]), created=True)


def _job_of_key(connection: Connection, job: NewJob) -> Recorded | KeyReused | None:
    """The job recorded earlier with this key: the same one when action, branch and arguments
    all match."""
    query = select(
        jobrequests.c.id, jobrequests.c.action, jobrequests.c.branch, jobrequests.c.what
    ).where(jobrequests.c.who == job.who, jobrequests.c.idempotency_key == job.idempotency_key)
    row = connection.execute(query).first()
    if row is None:
        return None
    job_id, action, branch, what = row
    if (action, branch, what) == (job.action, job.branch, _what_text(job.what)):
        return Recorded(job_id, created=False)
    return KeyReused(job_id)


def _what_text(what: dict[str, Any]) -> str:
    return json.dumps(what, sort_keys=True)


@dataclass(frozen=True)
class Sending:
    """When an unanswered job request is sent again: `resend_after` seconds after its first
    send, then twice as long after each further one (at most 64 times as long), `max_sends`
    times in all."""

    resend_after: int
    max_sends: int


# A job's n-th wait for its answer lasts resend_after * BACKOFF[n], as a CASE every dialect runs.
BACKOFF = (1, 1, 2, 4, 8, 16, 32)
BACKOFF_CAP = 64


@dataclass(frozen=True)
class Claimed:
    """What one relay pass took: jobs to send now, and jobs sent `max_sends` times unanswered."""

    due: list[JobRow]
    exhausted: list[JobRow]


def claim_due(connection: Connection, now: int, sending: Sending, limit: int) -> Claimed:
    """Claim the unanswered job requests that were never sent, or whose last send had no answer
    within its wait, oldest first. A claim stamps `sent_at` only where the row is still as this
    pass read it, so two relays never send one job at once."""
    waited = case(
        *((jobrequests.c.attempts == sends, factor) for sends, factor in enumerate(BACKOFF)),
        else_=BACKOFF_CAP,
    )
    due_now = or_(
        jobrequests.c.sent_at.is_(None),
        jobrequests.c.sent_at <= now - waited * sending.resend_after,
    )
    query = (
        select(*JOB_COLUMNS, jobrequests.c.sent_at, jobrequests.c.attempts)
        .where(jobrequests.c.state.in_(UNANSWERED), due_now)
        .order_by(jobrequests.c.id)
        .limit(limit)
    )
    due: list[JobRow] = []
    exhausted: list[JobRow] = []
    with connection.begin():
        for row in connection.execute(query).all():
            job, sent_at, sends = _job(row[: len(JOB_COLUMNS)]), row[-2], row[-1]
            if not _stamp(connection, job.id, sent_at, sends, now):
                continue
            (exhausted if sends >= sending.max_sends else due).append(job)
    return Claimed(due, exhausted)


def _stamp(connection: Connection, job_id: int, sent_at: int | None, sends: int, now: int) -> bool:
    as_read = (
        jobrequests.c.sent_at.is_(None) if sent_at is None else jobrequests.c.sent_at == sent_at
    )
    result = connection.execute(
        update(jobrequests)
        .where(jobrequests.c.id == job_id, jobrequests.c.attempts == sends, as_read)
        .values(sent_at=now, attempts=sends + 1)
    )
    return result.rowcount == 1


def mark_published(connection: Connection, job_ids: list[int]) -> None:
    """The broker confirmed these messages; a result that already arrived keeps `complete`."""
    with connection.begin():
        connection.execute(
            update(jobrequests)
            .where(jobrequests.c.id.in_(job_ids), jobrequests.c.state == RECORDED)
            .values(state=PUBLISHED)
        )


def release(connection: Connection, job_ids: list[int], now: int) -> None:
    """The broker did not take these claimed messages: undo their claim, so the next relay pass
    sends them at once and the failed try does not count as a send."""
    with connection.begin():
        connection.execute(
            update(jobrequests)
            .where(jobrequests.c.id.in_(job_ids), jobrequests.c.sent_at == now)
            .values(sent_at=None, attempts=jobrequests.c.attempts - 1)
        )


def forget_sends(connection: Connection) -> int:
    """Every unanswered job is due now: after a restart on a broker that lived in the dead
    process, none of their messages exists any more."""
    with connection.begin():
        result = connection.execute(
            update(jobrequests)
            .where(jobrequests.c.state.in_(UNANSWERED), jobrequests.c.sent_at.is_not(None))
            .values(sent_at=None)
        )
        return result.rowcount


@dataclass(frozen=True)
class Answered:
    """The job an answer was stored on; `first` is False for a repeated answer, which
    changed nothing."""

    action: str
    who: str
    when: int
    first: bool


def complete_job(
    connection: Connection, job_id: int, message: dict[str, Any], now: int
) -> Answered | None:
    """Store the agent's answer; None when there is no such job. Repeating it is harmless:
    the first answer stays."""
    with connection.begin():
        query = select(jobrequests.c.action, jobrequests.c.who, jobrequests.c.when)
        row = connection.execute(query.where(jobrequests.c.id == job_id)).first()
        if row is None:
            return None
        result = connection.execute(
            update(jobrequests)
            .where(jobrequests.c.id == job_id, jobrequests.c.completed_at.is_(None))
            .values(completed_at=now, complete_data=json.dumps(message), state=COMPLETE)
        )
        action, who, when = row
        return Answered(action, who, when, first=bool(result.rowcount))


def count_unanswered(connection: Connection) -> dict[str, int]:
    """Unanswered job requests by state, on the state index: a count that grows with the
    work outstanding, not with the years of answered jobs."""
    query = (
        select(jobrequests.c.state, func.count())
        .where(jobrequests.c.state.in_(UNANSWERED))
        .group_by(jobrequests.c.state)
    )
    with connection.begin():
        return {state: count for state, count in connection.execute(query)}


@dataclass(frozen=True)
class JobState:
    """What the event feed follows of a job: enough to say it completed, and how."""

    id: int
    action: str
    branch: str | None
    state: str
    complete_data: Any


def _job_state(row: Any) -> JobState:
    job_id, action, branch, state, complete_data = row
    return JobState(
        job_id, action, branch, state, json.loads(complete_data) if complete_data else None
    )


JOB_STATE_COLUMNS = (
    jobrequests.c.id,
    jobrequests.c.action,
    jobrequests.c.branch,
    jobrequests.c.state,
    jobrequests.c.complete_data,
)


def jobs_to_follow(connection: Connection, after_id: int) -> list[JobState]:
    """The unanswered jobs (on the state index) and every job after `after_id` (on the key)."""
    query = select(*JOB_STATE_COLUMNS).where(
        or_(jobrequests.c.state.in_(UNANSWERED), jobrequests.c.id > after_id)
    )
    with connection.begin():
        return [_job_state(row) for row in connection.execute(query).all()]


def jobs_by_id(connection: Connection, job_ids: list[int]) -> list[JobState]:
    query = select(*JOB_STATE_COLUMNS).where(jobrequests.c.id.in_(job_ids))
    with connection.begin():
        return [_job_state(row) for row in connection.execute(query).all()]


def newest_job_id(connection: Connection) -> int:
    with connection.begin():
        return int(connection.execute(select(func.max(jobrequests.c.id))).scalar() or 0)
