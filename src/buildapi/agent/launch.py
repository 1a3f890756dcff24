"""Wire an agent from settings: the broker, and a dispatcher on the kind of farm that
`agent_backend` names, with its backend and its ledger."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

from buildapi.agent.buildbot08 import Buildbot08Backend
from buildapi.agent.consumer import Agent
from buildapi.agent.dispatcher import Dispatcher
from buildapi.agent.heartbeat import Heartbeat
from buildapi.agent.ledger import Ledger
from buildapi.agent.masters import MastersClient
from buildapi.agent.races import RaceSweeper
from buildapi.clock import SystemClock
from buildapi.config import AgentBackend, Settings
from buildapi.db.engines import Databases
from buildapi.layout import FarmLayout
from buildapi.selfserve.broker import Broker

DispatcherFactory = Callable[[Settings, Databases, FarmLayout], AbstractContextManager[Dispatcher]]


@contextlib.contextmanager
def buildbot08_dispatcher(
    settings: Settings, databases: Databases, layout: FarmLayout
) -> Iterator[Dispatcher]:
    """A Buildbot 0.8 farm: the done-markers live in its scheduler database, beside the effects
    they guard; its masters' HTTP client is closed on the way out."""
    with MastersClient(
        settings.agent_http_timeout_seconds, settings.clobberer_url, settings.clobberer_token
    ) as masters:
        backend = Buildbot08Backend(layout, masters, zone=settings.zone)
        ledger = Ledger(databases.schedulerdb, SystemClock())
        yield Dispatcher(
            ledger, backend, layout, stop_confirm_seconds=settings.agent_stop_confirm_seconds
        )


# agent_backend -> the dispatcher on that kind of farm
BACKENDS: dict[AgentBackend, DispatcherFactory] = {"buildbot08": buildbot08_dispatcher}


@contextlib.contextmanager
def agent_of(settings: Settings, databases: Databases, layout: FarmLayout) -> Iterator[Agent]:
    """An agent ready to run; its connections are closed on the way out."""
    with BACKENDS[settings.agent_backend](settings, databases, layout) as dispatcher:
        sweeper = RaceSweeper(dispatcher.context.stopper, settings.agent_race_check_seconds)
        heartbeat = Heartbeat(
            databases.buildapi_db,
            SystemClock(),
            settings.agent_heartbeat_seconds,
            settings.agent_name,
        )
        agent = Agent(Broker(settings), dispatcher, sweeper, heartbeat)
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
