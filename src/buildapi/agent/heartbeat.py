"""The agent says it is alive: its row in BuildAPI's agent_heartbeats, written when it starts
and every `agent_heartbeat_seconds` while it runs, removed when it stops cleanly. /healthz reads
the rows; an agent killed outright leaves a row that stops moving, which is how it shows."""

from __future__ import annotations

import logging
import os
import socket
import threading

from sqlalchemy import Engine

from buildapi.clock import Clock
from buildapi.db.queries.heartbeats import (
    FORGOTTEN_AFTER_SECONDS,
    AgentSeen,
    forget_agent,
    forget_agents_before,
    record_heartbeat,
)

log = logging.getLogger(__name__)


def default_agent_name() -> str:
    """host:pid, unique among the agents running at one time."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Heartbeat:
    """Writes one agent's heartbeat row in `engine` (BuildAPI's database)."""

    def __init__(self, engine: Engine, clock: Clock, every: float, name: str = "") -> None:
        self.engine = engine
        self.clock = clock
        self.every = every
        self.name = name or default_agent_name()
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.started_at = int(clock.now())

    def beat(self) -> None:
        now = int(self.clock.now())
        with self.engine.begin() as connection:
            record_heartbeat(
                connection, AgentSeen(self.name, self.host, self.pid, self.started_at, now)
            )

    def run(self, stop: threading.Event) -> None:
        """Beat now and every `every` seconds until `stop` is set, then remove the row. A beat
        that fails (the database gone) is logged and tried again at the next one: the agent
        keeps working, and /healthz shows it stale meanwhile."""
        self._beat_or_log(first=True)
        while not stop.wait(self.every):
            self._beat_or_log()
        try:
            with self.engine.begin() as connection:
                forget_agent(connection, self.name)
        except Exception as exc:  # the row goes stale instead; that is all
            log.warning("could not remove agent %s's heartbeat: %s", self.name, exc)

    def _beat_or_log(self, first: bool = False) -> None:
        try:
            if first:
                self._forget_the_long_gone()
            self.beat()
        except Exception as exc:  # any database failure; the agent's work goes on
            log.warning("agent %s could not write its heartbeat: %s", self.name, exc)

    def _forget_the_long_gone(self) -> None:
        """Agents killed long ago leave rows nobody removes; whichever agent starts next does."""
        before = int(self.clock.now()) - FORGOTTEN_AFTER_SECONDS
        with self.engine.begin() as connection:
            forgotten = forget_agents_before(connection, before)
        if forgotten:
            log.info("forgot %d agents not seen for a day", forgotten)
