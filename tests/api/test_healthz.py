"""/livez, /readyz and /healthz: each names the failing part (a database, the broker, the cache,
the agents), answers within health_timeout_seconds when a part hangs, and shows no paths."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from buildapi.agent.launch import agent_in_background
from buildapi.config import Settings, load_settings
from buildapi.db.engines import Databases
from buildapi.db.queries.heartbeats import AgentSeen, record_heartbeat
from buildapi.db.setup import init_databases
from buildapi.layout import FarmLayout, load_layout
from tests.conftest import broker_names, make_client
from tests.processes import wait_until
from tests.services import service_url

JSON = {"Accept": "application/json"}
CLOSED_AMQP = "amqp://guest:guest@127.0.0.1:1//"


def test_all_up(client: httpx.Client, tmp_path: Path) -> None:
    response = client.get("/healthz?format=json")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "OK"
    assert body["checks"] == {
        "schedulerdb": "ok",
        "statusdb": "ok",
        "buildapi_db": "ok",
        "broker": "ok",
    }
    assert body["parts"] == {
        "schedulerdb": {"kind": "sqlite", "name": "schedulerdb.sqlite"},
        "statusdb": {"kind": "sqlite", "name": "statusdb.sqlite"},
        "buildapi_db": {"kind": "sqlite", "name": "buildapi_db.sqlite"},
        "broker": {"kind": "memory"},
    }
    assert body["layout"] == {name: "ok" for name in ("branches", "masters", "builders", "slaves")}
    assert body["agents"] == {"required": 0, "stale_after_seconds": 60.0, "alive": 0, "seen": []}
    assert str(tmp_path) not in response.text and "/examples/" not in response.text


def answer(settings: Settings, path: str, layout: FarmLayout | None = None) -> httpx.Response:
    """GET `path` as JSON from an app on `settings`' databases, which are left as they are.
    The app's lifespan (the job pipeline's threads) is not started: the checks do not need it,
    and with a broker down it only adds its reconnection attempts."""
    databases = Databases.from_settings(settings)
    try:
        client = make_client(settings, databases, layout or load_layout(settings))
        return client.get(path, headers=JSON)
    finally:
        databases.dispose()


def on(tmp_path: Path, **overrides: Any) -> Settings:
    return load_settings(data_dir=tmp_path / "data", **{**broker_names(), **overrides})


def test_live_answers_while_its_databases_are_down(tmp_path: Path) -> None:
    settings = on(tmp_path, schedulerdb_url="postgresql://u:p@127.0.0.1:1/nothing")
    live = answer(settings, "/livez")
    assert (live.status_code, live.json()) == (200, {"status": "OK"})
    ready = answer(settings, "/readyz")
    assert ready.status_code == 503
    assert ready.json()["msg"].startswith("schedulerdb: down (OperationalError: ")


def test_ready_when_all_answer(client: httpx.Client) -> None:
    response = client.get("/readyz", headers=JSON)
    assert response.status_code == 200
    assert response.json() == {
        "status": "OK",
        "checks": {name: "ok" for name in ("schedulerdb", "statusdb", "buildapi_db", "broker")},
    }


@pytest.mark.parametrize("path", ["/readyz", "/healthz"])
def test_a_database_down_is_a_503_naming_it(tmp_path: Path, path: str) -> None:
    response = answer(on(tmp_path, statusdb_url="sqlite:////proc/no/such/dir/s.db"), path)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "FAILED"
    assert body["msg"].startswith("statusdb: down")
    assert body["checks"]["schedulerdb"] == "ok"


def test_a_server_database_down_is_named(tmp_path: Path) -> None:
    settings = on(tmp_path, buildapi_db_url="postgresql://u:p@127.0.0.1:1/nothing")
    response = answer(settings, "/healthz")
    assert response.status_code == 503
    assert response.json()["msg"].startswith("buildapi_db: down")
    assert response.json()["parts"]["buildapi_db"] == {"kind": "postgresql", "name": "nothing"}
    assert ":p@" not in response.text, "no password"


@pytest.mark.parametrize("path", ["/readyz", "/healthz"])
def test_broker_down_is_named(tmp_path: Path, path: str) -> None:
    """A closed port as the broker: the web still serves reads, but is not ready."""
    settings = on(tmp_path, broker_url=CLOSED_AMQP, broker_connect_timeout_seconds="1")
    response = answer(settings, path)
    assert response.status_code == 503
    assert response.json()["msg"].startswith("broker: down")
    assert response.json()["checks"]["statusdb"] == "ok"


@contextlib.contextmanager
def silent_server() -> Iterator[int]:
    """A port that takes connections and never says a word: a hung database."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


@pytest.mark.parametrize("path", ["/readyz", "/healthz"])
def test_a_hung_database_is_bounded_by_the_timeout(tmp_path: Path, path: str) -> None:
    with silent_server() as port:
        settings = on(
            tmp_path,
            statusdb_url=f"postgresql://u:p@127.0.0.1:{port}/hung",
            db_connect_timeout_seconds=60,
            health_timeout_seconds=1,
        )
        started = time.monotonic()
        response = answer(settings, path)
        took = time.monotonic() - started
    assert response.status_code == 503
    assert response.json()["checks"]["statusdb"] == "down (no answer within 1 s)"
    assert response.json()["checks"]["schedulerdb"] == "ok"
    assert took < 5, f"the probe took {took:.1f} s"


@pytest.mark.parametrize(("which", "expected"), [("up", "ok"), ("closed", "down (")])
def test_a_redis_cache_is_checked(tmp_path: Path, which: str, expected: str) -> None:
    url = service_url("redis") if which == "up" else "redis://127.0.0.1:1/0"
    response = answer(on(tmp_path, cache_url=url), "/healthz")
    assert response.json()["checks"]["cache"].startswith(expected)
    assert response.json()["parts"]["cache"] == {"kind": "redis"}
    assert response.status_code == (200 if which == "up" else 503)


def test_html_health_page_keeps_the_status_code(tmp_path: Path, layout: FarmLayout) -> None:
    settings = load_settings(data_dir=tmp_path / "d", schedulerdb_url="sqlite:////proc/x/y.db")
    databases = Databases.from_settings(settings)
    with make_client(settings, databases, layout) as client:
        page = client.get("/healthz")
    databases.dispose()
    assert page.status_code == 503
    assert "schedulerdb: down" in page.text


def test_a_layout_error_is_shown_without_its_directory(tmp_path: Path) -> None:
    copied = tmp_path / "layout" / "my-branches.json"
    copied.parent.mkdir()
    copied.write_bytes(Path(load_layout(on(tmp_path)).branches_source.location).read_bytes())
    settings = on(tmp_path, branches_url=str(copied))
    layout = load_layout(settings)
    copied.write_text("{not json", encoding="utf-8")
    layout.refresh()
    response = answer(settings, "/healthz", layout)
    assert response.status_code == 200, "the last good copy is still served"
    shown = response.json()["layout"]["branches"]
    assert shown.startswith("bad layout my-branches.json: ")
    assert str(copied.parent) not in response.text


# -- the agents, on a broker that reaches agents in other processes ----------------------------


@pytest.fixture
def on_rabbitmq(tmp_path: Path) -> Iterator[tuple[Settings, Databases]]:
    settings = on(tmp_path, broker_url=service_url("amqp"), agent_stale_seconds=60)
    databases = Databases.from_settings(settings)
    init_databases(databases)
    yield settings, databases
    databases.dispose()


def heard(databases: Databases, agent: str, seconds_ago: int) -> None:
    now = int(time.time())
    with databases.buildapi_db.begin() as connection:
        record_heartbeat(
            connection, AgentSeen(agent, "agent-host", 4242, now - 3600, now - seconds_ago)
        )


def test_no_agent_seen_is_unhealthy_but_ready(on_rabbitmq: tuple[Settings, Databases]) -> None:
    settings, _databases = on_rabbitmq
    health = answer(settings, "/healthz")
    assert health.status_code == 503
    assert health.json()["msg"] == "agents: down (0 of 1 required agents seen within 60 s)"
    assert health.json()["checks"]["broker"] == "ok"
    ready = answer(settings, "/readyz")
    assert ready.status_code == 200, "the web can serve without agents"
    assert "agents" not in ready.json()["checks"]


def test_an_agent_heard_lately_is_healthy(on_rabbitmq: tuple[Settings, Databases]) -> None:
    settings, databases = on_rabbitmq
    heard(databases, "agent-host:4242", seconds_ago=5)
    heard(databases, "agent-host:17", seconds_ago=600)  # killed ten minutes ago
    response = answer(settings, "/healthz")
    assert response.status_code == 200, response.text
    agents = response.json()["agents"]
    assert (agents["required"], agents["alive"]) == (1, 1)
    assert [(seen["agent"], seen["alive"]) for seen in agents["seen"]] == [
        ("agent-host:4242", True),
        ("agent-host:17", False),
    ]
    assert 5 <= agents["seen"][0]["seen_seconds_ago"] <= 10


def test_a_stale_agent_is_unhealthy(on_rabbitmq: tuple[Settings, Databases]) -> None:
    settings, databases = on_rabbitmq
    heard(databases, "agent-host:4242", seconds_ago=61)
    response = answer(settings, "/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["agents"].startswith("down (0 of 1 required")
    assert response.json()["agents"]["seen"][0]["alive"] is False


@pytest.mark.parametrize(("required", "status"), [(2, 503), (0, 200)])
def test_how_many_agents_are_required(
    on_rabbitmq: tuple[Settings, Databases], required: int, status: int
) -> None:
    settings, databases = on_rabbitmq
    heard(databases, "agent-host:4242", seconds_ago=1)
    settings = settings.model_copy(update={"health_min_agents": required})
    response = answer(settings, "/healthz")
    assert response.status_code == status
    assert response.json()["agents"]["required"] == required
    assert ("agents" in response.json()["checks"]) == bool(required)


def test_the_demos_agent_in_process_is_listed(
    settings: Settings, databases: Databases, layout: FarmLayout
) -> None:
    """On memory:// the agent is a thread of the web's process: listed, never required."""
    with (
        agent_in_background(settings, databases, layout),
        make_client(settings, databases, layout) as client,
    ):

        def listed() -> list[dict[str, Any]]:
            return client.get("/healthz", headers=JSON).json()["agents"]["seen"]

        wait_until(listed, 10, "the in-process agent's heartbeat")
        response = client.get("/healthz", headers=JSON)
    assert response.status_code == 200
    (seen,) = response.json()["agents"]["seen"]
    assert seen["alive"] and seen["agent"].endswith(f":{seen['pid']}")
    assert response.json()["agents"]["required"] == 0


@pytest.mark.parametrize("engine", ["postgresql", "mysql"])
def test_server_databases_are_healthy(engine: str, engine_databases_for, tmp_path: Path) -> None:
    urls = engine_databases_for(engine)
    response = answer(on(tmp_path, **urls), "/healthz")
    assert response.status_code == 200, response.text
    assert response.json()["parts"]["statusdb"]["kind"] == engine


@pytest.fixture
def engine_databases_for(tmp_path: Path):
    """Create the three databases on a server engine and return their URL settings."""
    from contextlib import ExitStack

    from tests.databases import database_urls

    with ExitStack() as stack:

        def make(engine: str) -> dict[str, str]:
            urls = stack.enter_context(database_urls(engine, tmp_path))
            settings = load_settings(data_dir=tmp_path, **{f"{k}_url": v for k, v in urls.items()})
            databases = Databases.from_settings(settings)
            init_databases(databases)
            databases.dispose()
            return {f"{name}_url": url for name, url in urls.items()}

        yield make


@pytest.mark.parametrize(
    "path", ["/pending", "/reports/waittimes?starttime=1780000000", "/self-serve/try"]
)
def test_a_read_whose_database_is_down_is_a_503(
    tmp_path: Path, layout: FarmLayout, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Not a 500 and a traceback: the request was fine, the server cannot answer it now."""
    settings = load_settings(
        data_dir=tmp_path / "data",
        schedulerdb_url="postgresql://u:p@127.0.0.1:1/nothing",
        statusdb_url="postgresql://u:p@127.0.0.1:1/other",
    )
    databases = Databases.from_settings(settings)
    try:
        with make_client(settings, databases, layout) as client:
            response = client.get(path, headers={"Accept": "application/json"})
    finally:
        databases.dispose()
    assert response.status_code == 503, response.text
    assert response.json() == {
        "status": "FAILED",
        "msg": "a database is unavailable; try again later",
    }
    assert not any(record.exc_info for record in caplog.records)
