"""Job requests: the self-serve audit log and the state of each request."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from buildapi.db.schema.buildapi import jobrequests


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
