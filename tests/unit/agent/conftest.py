"""The agent's dispatcher on the Buildbot 0.8 backend, over a seeded schedulerdb (every engine)
or over a simulated farm whose masters and clobberer listen on free loopback ports."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, text

from buildapi.agent.buildbot08 import UTC, Buildbot08Backend
from buildapi.agent.dispatcher import Dispatcher
from buildapi.agent.ledger import Ledger
from buildapi.agent.masters import MastersClient
from buildapi.clock import Clock, VirtualClock
from buildapi.config import Settings, load_settings
from buildapi.db.engines import make_engine
from buildapi.db.queries.buildrequests import claim_request, insert_build
from buildapi.db.queries.buildsets import NewBuildset, insert_buildset, insert_sourcestamp
from buildapi.db.schema import scheduler_metadata
from buildapi.farm.farm import Farm
from buildapi.farm.launch import with_free_ports
from buildapi.farm.server import FarmServer, free_ports
from buildapi.layout import FarmLayout, load_layout
from buildapi.selfserve.messages import JobRequest
from tests.databases import ENGINES, scratch_database
from tests.services import service_url
from tests.unit.farm.conftest import START, make_farm

WHO = "dev@example.com"
REVISION = "abcdef0123456789abcdef0123456789abcdef01"
INBOUND = "integration/mozilla-inbound"
BUILD = "Linux x86-64 mozilla-inbound build"
TEST = "Ubuntu VM 12.04 x64 mozilla-inbound opt test mochitest-1"
PROPERTIES = {
    "branch": ("mozilla-inbound", "Scheduler"),
    "buildid": ("20260528132640", "Scheduler"),
    "builduid": ("0123456789abcdef0123456789abcdef", "Scheduler"),
}
# Every job request gets its own id, as the web's jobrequests table would give it.
_job_ids = itertools.count(1000)


def job(action: str, request_id: int | None = None, **args: Any) -> JobRequest:
    return JobRequest(
        request_id=next(_job_ids) if request_id is None else request_id,
        action=action,
        who=WHO,
        when=int(START),
        args=args,
    )


def rows(engine: Engine, sql: str, **params: Any) -> list[tuple]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(sql), params)]


def count(engine: Engine, table: str) -> int:
    return rows(engine, f"SELECT COUNT(*) FROM {table}")[0][0]


def snapshot(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of the tables an action could write, to show that one wrote nothing."""
    tables = {
        "buildrequests": "id",
        "buildsets": "id",
        "builds": "id",
        "sourcestamps": "id",
        "changes": "changeid",
        "buildset_properties": "buildsetid, property_name",
    }
    return {
        table: rows(engine, f"SELECT * FROM {table} ORDER BY {order}")
        for table, order in tables.items()
    }


def submit(
    engine: Engine,
    builders: list[str],
    *,
    branch: str = INBOUND,
    revision: str = REVISION,
    external_idstring: str | None = None,
    now: int = int(START),
) -> tuple[int, list[int]]:
    """A buildset of pending requests, as a scheduler writes it."""
    with engine.begin() as connection:
        ssid = insert_sourcestamp(connection, branch, revision)
        return insert_buildset(
            connection,
            NewBuildset(
                reason="scheduler",
                submitted_at=now,
                builders=builders,
                properties=PROPERTIES,
                sourcestampid=ssid,
                external_idstring=external_idstring,
            ),
        )


def claim(engine: Engine, brid: int, master_db_name: str, number: int = 7) -> int:
    """A master claims `brid` and starts build `number`; the builds row id is returned."""
    now = int(START) + 60
    with engine.begin() as connection:
        assert claim_request(connection, brid, now, master_db_name, "pid1-boot1")
        return insert_build(connection, brid, number, now)


def finish(engine: Engine, brid: int, results: int = 0) -> None:
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE buildrequests SET complete = 1, results = :results, complete_at = :at "
                "WHERE id = :brid"
            ),
            {"results": results, "at": int(START) + 120, "brid": brid},
        )
        connection.execute(
            text("UPDATE builds SET finish_time = :at WHERE brid = :brid"),
            {"at": int(START) + 120, "brid": brid},
        )


def dispatcher_of(
    engine: Engine,
    layout: FarmLayout,
    masters: MastersClient,
    clock: Clock,
    *,
    zone: ZoneInfo = UTC,
    ledger: type[Ledger] = Ledger,
) -> Dispatcher:
    """A dispatcher on the Buildbot 0.8 farm of `engine`, as `buildapi agent` wires it."""
    backend = Buildbot08Backend(layout, masters, zone=zone)
    return Dispatcher(ledger(engine, clock), backend, layout)


@dataclass
class Seeded:
    """A schedulerdb with the shipped layout and a dispatcher whose masters are all unreachable."""

    engine: Engine
    layout: FarmLayout
    clock: VirtualClock
    masters: MastersClient
    dispatcher: Dispatcher


def unreachable_masters(timeout: float = 2.0) -> MastersClient:
    (port,) = free_ports(1)
    return MastersClient(timeout, f"http://127.0.0.1:{port}/clobberer")


@pytest.fixture(params=ENGINES)
def scheduler_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh schedulerdb on each engine (one scratch database: the agent needs no other)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'schedulerdb.sqlite'}"
        return
    with scratch_database(service_url(request.param)) as url:
        yield url


@pytest.fixture
def seeded(scheduler_url: str, settings: Settings, layout: FarmLayout) -> Iterator[Seeded]:
    engine = make_engine(scheduler_url, settings)
    scheduler_metadata.create_all(engine)
    clock = VirtualClock(START + 600)
    with unreachable_masters() as masters:
        dispatcher = dispatcher_of(engine, layout, masters, clock)
        yield Seeded(engine, layout, clock, masters, dispatcher)
    engine.dispose()


@dataclass
class AgentFarm:
    """A farm without pushes (only the requests a test submits run), its masters' web
    interface on free ports, and a dispatcher talking to it."""

    farm: Farm
    masters: MastersClient
    dispatcher: Dispatcher
    clobberer_url: str

    @property
    def engine(self) -> Engine:
        return self.farm.databases.schedulerdb

    def running(self, brid: int):  # type: ignore[no-untyped-def]
        """Submit-and-claim helper: step the farm until `brid` runs, and return its build."""
        self.farm.step()
        return next(build for build in self.farm.running.values() if brid in build.brids)


def make_agent_farm(directory: Path) -> AgentFarm:
    base = load_settings(data_dir=directory)
    ported = with_free_ports(base, load_layout(base))
    farm = make_farm(
        directory,
        push_rates={},
        masters_url=ported.masters_url,
        clobberer_url=ported.clobberer_url,
    )
    masters = MastersClient(5.0, ported.clobberer_url)
    dispatcher = dispatcher_of(farm.databases.schedulerdb, farm.layout, masters, farm.clock)
    return AgentFarm(farm, masters, dispatcher, ported.clobberer_url)


@pytest.fixture
def quiet_farm(tmp_path: Path) -> Iterator[AgentFarm]:
    """The farm with its web interface down: every master refuses connections."""
    agent_farm = make_agent_farm(tmp_path)
    yield agent_farm
    agent_farm.masters.close()
    agent_farm.farm.databases.dispose()


@pytest.fixture
def served_farm(quiet_farm: AgentFarm) -> Iterator[AgentFarm]:
    server = FarmServer(quiet_farm.farm, quiet_farm.clobberer_url)
    server.start()
    yield quiet_farm
    server.stop()
