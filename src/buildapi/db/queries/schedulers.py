"""Scheduler rows and their JSON state (what each scheduler has already looked at)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, insert, select, update

from buildapi.db.schema.scheduler import schedulers


def load_scheduler(connection: Connection, name: str, class_name: str) -> tuple[int, dict]:
    """The scheduler's id and state, creating the row on first use."""
    row = connection.execute(
        select(schedulers.c.schedulerid, schedulers.c.state).where(
            schedulers.c.name == name, schedulers.c.class_name == class_name
        )
    ).first()
    if row:
        return int(row[0]), json.loads(row[1] or "{}")
    schedulerid = connection.execute(
        insert(schedulers).values(name=name, class_name=class_name, state="{}")
    ).inserted_primary_key[0]
    return int(schedulerid), {}


def save_scheduler_state(connection: Connection, schedulerid: int, state: dict[str, Any]) -> None:
    connection.execute(
        update(schedulers)
        .where(schedulers.c.schedulerid == schedulerid)
        .values(state=json.dumps(state, sort_keys=True))
    )
