"""`agent_backend` picks the farm the agent acts on; every value the setting allows is wired."""

from __future__ import annotations

from typing import get_args

from buildapi.agent.buildbot08 import Buildbot08Backend
from buildapi.agent.launch import BACKENDS, agent_of
from buildapi.config import AgentBackend, Settings
from buildapi.db.engines import Databases
from buildapi.layout import FarmLayout


def test_every_allowed_backend_is_wired() -> None:
    assert set(BACKENDS) == set(get_args(AgentBackend))


def test_the_default_agent_acts_on_a_buildbot08_farm(
    settings: Settings, databases: Databases, layout: FarmLayout
) -> None:
    assert settings.agent_backend == "buildbot08"
    with agent_of(settings, databases, layout) as agent:
        context = agent.dispatcher.context
        assert isinstance(context.backend, Buildbot08Backend)
        assert context.ledger.engine is databases.schedulerdb
        assert context.layout is layout
