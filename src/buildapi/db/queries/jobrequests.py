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


def _job(row: Any) -> JobRow:
    return JobRow(
        id=row.id,
        action=row.action,
        who=row.who,
        when=row.when,
        completed_at=row.completed_at,
        what=json.loads(row.what) if row.what else None,
        complete_data=json.loads(row.complete_data) if row.complete_data else None,
        state=row.state,
        branch=row.branch,
    )


def list_jobs(connection: Connection, num: int, offset: int, where: JobFilter) -> list[JobRow]:
    """Newest first."""
    query = select(jobrequests).order_by(jobrequests.c.when.desc(), jobrequests.c.id.desc())
    for name in ("who", "action", "branch", "state"):
        value = getattr(where, name)
        if value is not None:
            query = query.where(jobrequests.c[name] == value)
    return [_job(row) for row in connection.execute(query.limit(num).offset(offset)).all()]


def get_job(connection: Connection, job_id: int) -> JobRow | None:
    row = connection.execute(select(jobrequests).where(jobrequests.c.id == job_id)).first()
    return _job(row) if row else None
