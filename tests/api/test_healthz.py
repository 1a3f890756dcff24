"""/healthz names the failing part: each database, and the broker."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from buildapi.config import load_settings
from buildapi.db.engines import Databases
from buildapi.db.setup import init_databases
from buildapi.layout import FarmLayout
from tests.conftest import make_client
from tests.services import service_url


def test_all_up(client: httpx.Client) -> None:
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


def health(tmp_path: Path, layout: FarmLayout, **overrides: str) -> httpx.Response:
    settings = load_settings(data_dir=tmp_path / "data", **overrides)
    databases = Databases.from_settings(settings)
    try:
        with make_client(settings, databases, layout) as client:
            return client.get("/healthz", headers={"Accept": "application/json"})
    finally:
        databases.dispose()


def test_a_database_down_is_a_503_naming_it(tmp_path: Path, layout: FarmLayout) -> None:
    response = health(tmp_path, layout, statusdb_url="sqlite:////proc/no/such/dir/s.db")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "FAILED"
    assert body["msg"].startswith("statusdb: down")
    assert body["checks"]["schedulerdb"] == "ok"


def test_a_server_database_down_is_named(tmp_path: Path, layout: FarmLayout) -> None:
    response = health(tmp_path, layout, buildapi_db_url="postgresql://u:p@127.0.0.1:1/nothing")
    assert response.status_code == 503
    assert response.json()["msg"].startswith("buildapi_db: down")


def test_broker_down_is_named(tmp_path: Path, layout: FarmLayout) -> None:
    response = health(
        tmp_path,
        layout,
        broker_url="amqp://guest:guest@127.0.0.1:1//",
        broker_connect_timeout_seconds="1",
    )
    assert response.status_code == 503
    assert response.json()["msg"].startswith("broker: down")


def test_html_health_page_keeps_the_status_code(tmp_path: Path, layout: FarmLayout) -> None:
    settings = load_settings(data_dir=tmp_path / "d", schedulerdb_url="sqlite:////proc/x/y.db")
    databases = Databases.from_settings(settings)
    with make_client(settings, databases, layout) as client:
        page = client.get("/healthz")
    databases.dispose()
    assert page.status_code == 503
    assert "schedulerdb: down" in page.text


@pytest.mark.parametrize("engine", ["postgresql", "mysql"])
def test_server_databases_are_healthy(
    engine: str, engine_databases_for, tmp_path: Path, layout: FarmLayout
) -> None:
    urls = engine_databases_for(engine)
    response = health(tmp_path, layout, **urls)
    assert response.status_code == 200, response.text


def test_rabbitmq_is_healthy(tmp_path: Path, layout: FarmLayout) -> None:
    response = health(tmp_path, layout, broker_url=service_url("amqp"))
    assert response.status_code == 200, response.text
    assert response.json()["checks"]["broker"] == "ok"


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
