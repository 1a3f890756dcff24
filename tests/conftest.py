"""Shared fixtures: settings on a temporary data directory, databases, the layout, the app."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from buildapi.config import Settings, load_settings
from buildapi.db.engines import Databases
from buildapi.db.setup import init_databases
from buildapi.layout import FarmLayout, load_layout
from buildapi.web.app import create_app
from tests.databases import ENGINES, database_urls


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests start from the embedded defaults, whatever BUILDAPI_* the shell has set."""
    import os

    for variable in list(os.environ):
        if variable.startswith("BUILDAPI_") and variable != "BUILDAPI_REQUIRE_SERVICES":
            monkeypatch.delenv(variable)


def broker_names() -> dict[str, str]:
    """Exchange and queues of one test's own: the in-process broker outlives each test."""
    tag = uuid.uuid4().hex[:10]
    return {
        "broker_exchange": f"test-{tag}",
        "broker_agent_queue": f"test-agent-{tag}",
        "broker_web_queue": f"test-web-{tag}",
        "broker_dead_letter_queue": f"test-dead-{tag}",
    }


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data", **broker_names())


@pytest.fixture
def databases(settings: Settings) -> Iterator[Databases]:
    databases = Databases.from_settings(settings)
    init_databases(databases)
    yield databases
    databases.dispose()


@pytest.fixture(params=ENGINES)
def engine_databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Databases]:
    """The three databases on each engine in turn (server engines when their URLs are set)."""
    with database_urls(request.param, tmp_path) as urls:
        settings = load_settings(
            data_dir=tmp_path,
            schedulerdb_url=urls["schedulerdb"],
            statusdb_url=urls["statusdb"],
            buildapi_db_url=urls["buildapi_db"],
        )
        databases = Databases.from_settings(settings)
        try:
            yield databases
        finally:
            databases.dispose()


@pytest.fixture
def layout(settings: Settings) -> FarmLayout:
    return load_layout(settings)


def make_client(settings: Settings, databases: Databases, layout: FarmLayout) -> httpx.Client:
    from starlette.testclient import TestClient

    return TestClient(create_app(settings, databases, layout), follow_redirects=False)


@pytest.fixture
def client(settings: Settings, databases: Databases, layout: FarmLayout) -> Iterator[httpx.Client]:
    with make_client(settings, databases, layout) as test_client:
        yield test_client
