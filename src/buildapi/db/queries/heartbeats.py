"""Agent heartbeats: which agents have been seen lately."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from buildapi.db.schema.buildapi import agent_heartbeats


def count_agents_seen(connection: Connection, since: int) -> int:
    """Agents whose last heartbeat is at `since` or later."""
    query = select(func.count()).where(agent_heartbeats.c.seen_at >= since)
    with connection.begin():
        return int(connection.execute(query).scalar_one())
