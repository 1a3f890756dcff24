"""A whole self-serve system over a seeded farm: the farm's masters on real sockets, the web
app (with its results consumer and outbox), and an agent, all talking through a broker."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from buildapi.clock import VirtualClock
from buildapi.config import Settings, load_settings
from buildapi.db.engines import Databases
from buildapi.db.schema.buildapi import jobrequests
from buildapi.db.schema.scheduler import (
    buildrequests,
    builds,
    buildsets,
    selfserve_actions,
    sourcestamps,
)
from buildapi.db.setup import init_databases
from buildapi.farm.farm import Farm
from buildapi.farm.launch import with_free_ports
from buildapi.farm.server import FarmServer
from buildapi.layout import FarmLayout, load_layout
from buildapi.selfserve.broker import Broker
from tests.conftest import broker_names, make_client
from tests.processes import wait_until
from tests.tokens import make_token
from tests.unit.farm.conftest import BUSY, START, small_builders

USER = "dev@example.com"
BRANCH = "mozilla-inbound"
REBUILT = f"Self-serve: Rebuilt by {USER}"


@dataclass
class Farmed:
    settings: Settings
    databases: Databases
    layout: FarmLayout
    farm: Farm
    server: FarmServer

    def scalar(self, query: Any) -> Any:
        with self.databases.schedulerdb.connect() as connection:
            return connection.execute(query).scalar()

    def count(self, table: Any, *where: Any) -> int:
        return self.scalar(select(func.count()).select_from(table).where(*where))

    def job(self, job_id: int) -> Any:
        with self.databases.buildapi_db.connect() as connection:
            return connection.execute(select(jobrequests).where(jobrequests.c.id == job_id)).one()

    def wait_for_job(self, job_id: int, timeout: float = 20.0) -> dict[str, Any]:
        """The agent's answer (`complete_data.body`) once the web has stored it."""
        wait_until(lambda: self.job(job_id).completed_at is not None, timeout, f"job {job_id}")
        return json.loads(self.job(job_id).complete_data)["body"]


@contextlib.contextmanager
def seeded_farm(directory: Path, **overrides: Any) -> Iterator[Farmed]:
    """A farm with two busy farm hours behind it, on a clock that then stands still (nothing
    moves unless a test moves it), its masters and clobberer listening on free ports."""
    settings = load_settings(
        data_dir=directory,
        builders_url=str(small_builders(directory)),
        **{"outbox_every_seconds": 0.5, **broker_names(), **overrides},
    )
    settings = with_free_ports(settings, load_layout(settings))
    layout = load_layout(settings)
    databases = Databases.from_settings(settings)
    init_databases(databases)
    farm = Farm(
        layout,
        databases,
        VirtualClock(START),
        seed=5,
        speed=1.0,
        zone=settings.zone,
        push_rates=BUSY,
    )
    farm.start()
    farm.advance(2 * 3600.0, tick=120.0)
    server = FarmServer(farm, settings.clobberer_url)
    server.start()
    try:
        yield Farmed(settings, databases, layout, farm, server)
    finally:
        server.stop()
        databases.dispose()
        delete_broker_objects(settings)


def delete_broker_objects(settings: Settings) -> None:
    """Delete the test's own queues and exchange: the RabbitMQ server is shared and outlives
    every test."""
    broker = Broker(settings)
    with broker.connect() as connection:
        channel = connection.channel()
        for queue in broker.queues.values():
            queue(channel).delete()
        broker.exchange(channel).delete()


def a_build(farmed: Farmed) -> int:
    """The newest build on BRANCH."""
    return farmed.scalar(
        select(builds.c.id)
        .join(buildrequests, buildrequests.c.id == builds.c.brid)
        .join(buildsets, buildsets.c.id == buildrequests.c.buildsetid)
        .join(sourcestamps, sourcestamps.c.id == buildsets.c.sourcestampid)
        .where(sourcestamps.c.branch == "integration/mozilla-inbound")
        .order_by(builds.c.id.desc())
        .limit(1)
    )


def rebuilt(farmed: Farmed) -> int:
    return farmed.count(buildsets, buildsets.c.reason == REBUILT)


def markers(farmed: Farmed, job_id: int) -> int:
    return farmed.count(selfserve_actions, selfserve_actions.c.job_id == job_id)


def post_rebuild(client: httpx.Client, headers: dict, build_id: int, count: int) -> int:
    response = client.post(
        f"/self-serve/{BRANCH}/build",
        data={"build_id": build_id, "count": count},
        headers=headers,
    )
    assert response.status_code == 202, response.text
    return response.json()["request_id"]


@contextlib.contextmanager
def web_client(farmed: Farmed) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    """The web app with its pipeline running, and headers of an authenticated JSON client."""
    token = make_token(farmed.databases, USER)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    with make_client(farmed.settings, farmed.databases, farmed.layout) as client:
        yield client, headers


def settings_env(settings: Settings) -> dict[str, str]:
    """BUILDAPI_* variables that give a child process these settings."""
    env = {}
    for key, value in settings.model_dump(mode="json").items():
        if value is None:
            continue
        text = json.dumps(value) if isinstance(value, dict | list) else str(value)
        env[f"BUILDAPI_{key.upper()}"] = text
    return env
