"""Agent heartbeats: one row per running agent, rewritten every few seconds. A row whose
`seen_at` stops moving belongs to an agent that died without saying so (SIGKILL, a lost host)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, delete, func, insert, select, update

from buildapi.db.schema.buildapi import agent_heartbeats

# Rows of agents not seen for this long are dropped: a killed agent's row is not kept forever.
FORGOTTEN_AFTER_SECONDS = 86400


@dataclass(frozen=True)
class AgentSeen:
    agent: str
    host: str
    pid: int
    started_at: int
    seen_at: int


def record_heartbeat(connection: Connection, seen: AgentSeen) -> None:
    """Write the agent's row: an update, or the insert of its first beat. Two agents given the
    same `agent_name` would race on the insert; the loser's IntegrityError fails that beat
    only, and its next beat updates the row."""
    values = {
        "host": seen.host,
        "pid": seen.pid,
        "started_at": seen.started_at,
        "seen_at": seen.seen_at,
    }
    changed = connection.execute(
        update(agent_heartbeats).where(agent_heartbeats.c.agent == seen.agent).values(**values)
    )
    if not changed.rowcount:
        connection.execute(insert(agent_heartbeats).values(agent=seen.agent, **values))


def forget_agent(connection: Connection, agent: str) -> None:
    """An agent that stops cleanly removes its row: it is gone, not stale."""
    connection.execute(delete(agent_heartbeats).where(agent_heartbeats.c.agent == agent))


def forget_agents_before(connection: Connection, before: int) -> int:
    """Drop the rows of agents last seen before `before`; how many."""
    result = connection.execute(delete(agent_heartbeats).where(agent_heartbeats.c.seen_at < before))
    return result.rowcount


def list_agents_seen(connection: Connection, since: int) -> list[AgentSeen]:
    """Agents seen at or after `since`, most recently seen first."""
    query = (
        select(
            agent_heartbeats.c.agent,
            agent_heartbeats.c.host,
            agent_heartbeats.c.pid,
            agent_heartbeats.c.started_at,
            agent_heartbeats.c.seen_at,
        )
        .where(agent_heartbeats.c.seen_at >= since)
        .order_by(agent_heartbeats.c.seen_at.desc(), agent_heartbeats.c.agent)
    )
    return [AgentSeen(*row) for row in connection.execute(query)]


def count_agents_seen(connection: Connection, since: int) -> int:
    """How many agents were seen at or after `since`."""
    query = (
        select(func.count())
        .select_from(agent_heartbeats)
        .where(agent_heartbeats.c.seen_at >= since)
    )
    return connection.execute(query).scalar_one()
