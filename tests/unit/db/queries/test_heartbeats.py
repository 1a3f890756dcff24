"""Agent heartbeats on every engine: a beat makes the row or moves it, and the agents seen since
a moment are counted and listed from the rows."""

from __future__ import annotations

from buildapi.db.engines import Databases
from buildapi.db.queries.heartbeats import (
    AgentSeen,
    count_agents_seen,
    forget_agent,
    forget_agents_before,
    list_agents_seen,
    record_heartbeat,
)
from buildapi.db.setup import upgrade_buildapi_db

NOW = 1_780_000_000


def beat(databases: Databases, agent: str, seen_at: int, pid: int = 1) -> None:
    with databases.buildapi_db.begin() as connection:
        record_heartbeat(connection, AgentSeen(agent, "host-a", pid, NOW - 100, seen_at))


def test_beats_make_and_move_rows_on_every_engine(engine_databases: Databases) -> None:
    upgrade_buildapi_db(engine_databases.buildapi_db)
    beat(engine_databases, "host-a:1", NOW - 50)
    beat(engine_databases, "host-b:2", NOW - 5, pid=2)
    beat(engine_databases, "host-a:1", NOW - 1)  # the same agent again: its row moves
    with engine_databases.buildapi_db.connect() as connection:
        assert list_agents_seen(connection, NOW - 60) == [
            AgentSeen("host-a:1", "host-a", 1, NOW - 100, NOW - 1),
            AgentSeen("host-b:2", "host-a", 2, NOW - 100, NOW - 5),
        ]
        assert count_agents_seen(connection, NOW - 2) == 1
        assert count_agents_seen(connection, NOW - 5) == 2
        assert count_agents_seen(connection, NOW) == 0


def test_forgetting(engine_databases: Databases) -> None:
    upgrade_buildapi_db(engine_databases.buildapi_db)
    for number, seen_at in enumerate((NOW - 90_000, NOW - 10, NOW)):
        beat(engine_databases, f"agent-{number}", seen_at)
    with engine_databases.buildapi_db.begin() as connection:
        assert forget_agents_before(connection, NOW - 86_400) == 1
        forget_agent(connection, "agent-2")
        forget_agent(connection, "never-was")
    with engine_databases.buildapi_db.connect() as connection:
        assert [seen.agent for seen in list_agents_seen(connection, 0)] == ["agent-1"]
