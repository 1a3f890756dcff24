"""BuildAPI's whole self-serve system (web, broker, agent) on the scheduler database of a real
Buildbot 0.8.2 master, both ways round: BuildAPI creates the database and the master upgrades
onto it, or the master creates it and BuildAPI adds its own table. One master per setup."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from buildapi.agent.launch import agent_in_background
from buildapi.config import Settings, load_settings
from buildapi.db.engines import Databases
from buildapi.db.schema.buildapi import jobrequests
from buildapi.db.schema.scheduler import buildrequests, builds, buildsets, sourcestamps
from buildapi.db.setup import init_databases
from buildapi.layout import FarmLayout, load_layout
from tests.conftest import broker_names, make_client
from tests.databases import database_urls
from tests.processes import wait_until
from tests.realmaster.harness import RealMaster, check
from tests.services import service_url
from tests.tokens import make_token

USER = "dev@example.com"
# (engine, who creates the scheduler database)
SETUPS = [("sqlite", "buildapi"), ("sqlite", "master"), ("mysql", "buildapi"), ("mysql", "master")]
# Seconds within which the master reacts: it polls the database every second.
REACTION_SECONDS = 60.0


class Clobberer(ThreadingHTTPServer):
    """Records the clobber requests the agent sends before it stops a build."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _ClobberHandler)
        self.received: list[dict[str, str]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/clobberer"


class _ClobberHandler(BaseHTTPRequestHandler):
    server: Clobberer

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.received.extend(json.loads(body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        """Quiet: the tests read what was received."""


@dataclass
class Contract:
    """The system under test and the questions the tests ask of it."""

    master: RealMaster
    settings: Settings
    databases: Databases
    layout: FarmLayout
    client: httpx.Client
    headers: dict[str, str]
    clobberer: Clobberer
    engine: str
    created_by: str
    _revisions: set[str] = field(default_factory=set)

    def revision(self) -> str:
        """A revision no other test uses, so each test's builds have their own gate."""
        revision = uuid.uuid4().hex[:12]
        self._revisions.add(revision)
        return revision

    def act(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """Send a self-serve request and return the agent's answer once the web stored it."""
        response = self.client.request(method, path, headers=self.headers, **kwargs)
        assert response.status_code == 202, response.text
        job_id = response.json()["request_id"]
        wait_until(lambda: self.job(job_id).completed_at is not None, 30, f"job {job_id}")
        return json.loads(self.job(job_id).complete_data)["body"]

    def refuse(self, method: str, path: str) -> dict[str, Any]:
        """Send a self-serve request the web must refuse; its FAILED body, once it checked
        that nothing was recorded."""
        before = self.job_ids()
        response = self.client.request(method, path, headers=self.headers)
        assert 400 <= response.status_code < 500, response.text
        assert self.job_ids() == before
        return {"code": response.status_code, **response.json()}

    def job_ids(self) -> list[int]:
        with self.databases.buildapi_db.connect() as connection:
            return list(connection.execute(select(jobrequests.c.id)).scalars())

    def job(self, job_id: int) -> Any:
        with self.databases.buildapi_db.connect() as connection:
            return connection.execute(select(jobrequests).where(jobrequests.c.id == job_id)).one()

    def get(self, path: str) -> Any:
        response = self.client.get(path, headers={"Accept": "application/json"})
        assert response.status_code == 200, f"{path}: {response.status_code} {response.text}"
        return response.json()

    def rows(self, query: Any) -> list[Any]:
        with self.databases.schedulerdb.connect() as connection:
            return list(connection.execute(query))

    def requests_of(self, revision: str) -> list[Any]:
        """The requests at `revision`, by id."""
        return self.rows(
            select(buildrequests)
            .join(buildsets, buildsets.c.id == buildrequests.c.buildsetid)
            .join(sourcestamps, sourcestamps.c.id == buildsets.c.sourcestampid)
            .where(sourcestamps.c.revision == revision)
            .order_by(buildrequests.c.id)
        )

    def request(self, brid: int) -> Any:
        (row,) = self.rows(select(buildrequests).where(buildrequests.c.id == brid))
        return row

    def sourcestamp_of(self, buildsetid: int) -> int:
        (row,) = self.rows(select(buildsets.c.sourcestampid).where(buildsets.c.id == buildsetid))
        return row.sourcestampid

    def builds_of(self, brid: int) -> list[Any]:
        return self.rows(select(builds).where(builds.c.brid == brid).order_by(builds.c.id))

    def wait(self, condition: Any, what: str) -> None:
        wait_until(condition, REACTION_SECONDS, what)

    def wait_running(self, brid: int) -> Any:
        """The build the master started for request `brid`."""
        self.wait(lambda: self.builds_of(brid), f"a build of request {brid}")
        return self.builds_of(brid)[-1]

    def settle(self) -> None:
        """Let every build end (open the gates of every revision used so far) and wait until
        no request is left incomplete, so the next test starts on idle builders."""
        for revision in self._revisions:
            self.master.open_gate(revision)
        self.wait(
            lambda: not self.rows(select(buildrequests.c.id).where(buildrequests.c.complete == 0)),
            "every request completing",
        )

    def wait_complete(self, brid: int) -> Any:
        self.wait(lambda: self.request(brid).complete == 1, f"request {brid} completing")
        return self.request(brid)


@pytest.fixture(scope="module", params=SETUPS, ids=lambda setup: f"{setup[0]}-by-{setup[1]}")
def contract(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Contract]:
    engine, created_by = request.param
    root = tmp_path_factory.mktemp(f"realmaster-{engine}-{created_by}")
    amqp = service_url("amqp")
    clobberer = Clobberer()
    threading.Thread(target=clobberer.serve_forever, daemon=True).start()
    with database_urls(engine, root) as urls:
        master = RealMaster(root, urls["schedulerdb"])
        settings = load_settings(
            data_dir=root / "data",
            schedulerdb_url=urls["schedulerdb"],
            statusdb_url=urls["statusdb"],
            buildapi_db_url=urls["buildapi_db"],
            broker_url=amqp,
            clobberer_url=clobberer.url,
            outbox_every_seconds=0.5,
            agent_race_check_seconds=1.0,
            # The tests' pushes are new builds at revisions the master has never seen.
            write_allow_unknown_revisions=True,
            **master.layout_files(root / "layout"),
            **broker_names(),
        )
        databases = Databases.from_settings(settings)
        try:
            if created_by == "buildapi":
                init_databases(databases)
                master.create(database=False)
            else:
                master.create(database=True)
                init_databases(databases)
            check(master.upgrade(), "buildbot upgrade-master")
            master.start()
            layout = load_layout(settings)
            token = make_token(databases, USER)
            headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
            with (
                make_client(settings, databases, layout) as client,
                agent_in_background(settings, databases, layout),
            ):
                yield Contract(
                    master,
                    settings,
                    databases,
                    layout,
                    client,
                    headers,
                    clobberer,
                    engine,
                    created_by,
                )
        finally:
            master.open_all_gates()
            master.stop()
            databases.dispose()
            clobberer.shutdown()
            clobberer.server_close()


@pytest.fixture
def settled(contract: Contract) -> Iterator[Contract]:
    """The contract system, left with idle builders after the test."""
    yield contract
    contract.settle()
