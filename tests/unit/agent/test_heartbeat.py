"""The agent's heartbeat: its row appears when it starts, moves while it runs, goes when it
stops; a database that fails is logged and the beats go on."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from buildapi.agent.heartbeat import Heartbeat
from buildapi.agent.launch import agent_of
from buildapi.clock import VirtualClock
from buildapi.config import Settings, load_settings
from buildapi.db.engines import Databases, make_engine
from buildapi.db.queries.heartbeats import AgentSeen, list_agents_seen, record_heartbeat
from buildapi.layout import FarmLayout
from tests.processes import wait_until

START = 1_780_000_000
EVERY = 0.05


@contextlib.contextmanager
def beating(heartbeat: Heartbeat) -> Iterator[threading.Thread]:
    stop = threading.Event()
    thread = threading.Thread(target=heartbeat.run, args=(stop,), daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        stop.set()
        thread.join(timeout=10)


def rows(databases: Databases) -> list[AgentSeen]:
    with databases.buildapi_db.connect() as connection:
        return list_agents_seen(connection, 0)


def test_a_running_agent_beats_and_a_stopped_one_is_gone(databases: Databases) -> None:
    clock = VirtualClock(START)
    heartbeat = Heartbeat(databases.buildapi_db, clock, EVERY)
    with beating(heartbeat) as thread:
        wait_until(lambda: rows(databases), 10, "the first beat")
        (row,) = rows(databases)
        host = socket.gethostname()
        assert row == AgentSeen(f"{host}:{os.getpid()}", host, os.getpid(), START, START)
        clock.advance(30)
        wait_until(lambda: rows(databases)[0].seen_at == START + 30, 10, "a later beat")
    assert not thread.is_alive()
    assert rows(databases) == []


def test_agents_gone_for_a_day_are_forgotten_when_one_starts(databases: Databases) -> None:
    with databases.buildapi_db.begin() as connection:
        for name, seen_at in (("long-gone", START - 86_401), ("killed-lately", START - 600)):
            record_heartbeat(connection, AgentSeen(name, "h", 1, START - 90_000, seen_at))
    with beating(Heartbeat(databases.buildapi_db, VirtualClock(START), EVERY, "named")):
        wait_until(lambda: "named" in {row.agent for row in rows(databases)}, 10, "a beat")
        assert [row.agent for row in rows(databases)] == ["named", "killed-lately"]


def test_a_failing_database_is_logged_and_beats_go_on(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    engine = make_engine("sqlite:////proc/no/such/dir/b.sqlite", settings)
    heartbeat = Heartbeat(engine, VirtualClock(START), EVERY, "lonely")
    with caplog.at_level(logging.WARNING), beating(heartbeat) as thread:

        def failures() -> int:
            return sum("lonely could not write its heartbeat" in m for m in caplog.messages)

        wait_until(lambda: failures() >= 2, 10, "two failed beats")
        assert thread.is_alive()
    engine.dispose()


def test_the_launched_agent_beats_in_buildapi_db(
    tmp_path: Path, databases: Databases, layout: FarmLayout
) -> None:
    settings = load_settings(
        data_dir=tmp_path / "data", agent_name="agent-7", agent_heartbeat_seconds=2
    )
    with agent_of(settings, databases, layout) as agent:
        heartbeat = agent.heartbeat
        assert heartbeat is not None
        assert (heartbeat.name, heartbeat.every) == ("agent-7", 2)
        assert heartbeat.engine is databases.buildapi_db
