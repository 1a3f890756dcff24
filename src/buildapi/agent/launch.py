"""Wire an agent from settings: the broker, the masters' HTTP client, the backend and the
ledger."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from buildapi.agent.buildbot08 import Buildbot08Backend
from buildapi.agent.consumer import Agent
from buildapi.agent.dispatcher import Dispatcher
from buildapi.agent.ledger import Ledger
from buildapi.agent.masters import MastersClient
from buildapi.clock import SystemClock
from buildapi.config import Settings
from buildapi.db.engines import Databases
from buildapi.layout import FarmLayout
from buildapi.selfserve.broker import Broker


@contextlib.contextmanager
def agent_of(settings: Settings, databases: Databases, layout: FarmLayout) -> Iterator[Agent]:
    """An agent ready to run; its connections are closed on the way out."""
    with MastersClient(
        settings.agent_http_timeout_seconds, settings.clobberer_url, settings.clobberer_token
    ) as masters:
        backend = Buildbot08Backend(layout, masters, zone=settings.zone)
        ledger = Ledger(databases.schedulerdb, SystemClock())
        agent = Agent(Broker(settings), Dispatcher(ledger, backend, layout))
        try:
            yield agent
        finally:
            agent.broker.close()


@contextlib.contextmanager
def agent_in_background(
    settings: Settings, databases: Databases, layout: FarmLayout
) -> Iterator[Agent]:
    """An agent consuming in a thread of this process (the demo's, and the in-process tests')."""
    with agent_of(settings, databases, layout) as agent:
        thread = threading.Thread(target=agent.run, name="agent", daemon=True)
        thread.start()
        try:
            yield agent
        finally:
            agent.stop()
            thread.join(timeout=10)
