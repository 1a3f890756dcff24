"""A busy farm shared by the read-side tests of a module (they only read)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from buildapi.clock import VirtualClock
from buildapi.config import Settings, load_settings
from buildapi.db.engines import Databases
from buildapi.db.setup import init_databases
from buildapi.farm.farm import Farm
from buildapi.layout import load_layout
from tests.conftest import broker_names, make_client

START = 1_780_000_000.0


@pytest.fixture(scope="module")
def live_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return load_settings(data_dir=tmp_path_factory.mktemp("live"))


@pytest.fixture(scope="module")
def busy_farm(live_settings: Settings) -> Iterator[Farm]:
    """A busy farm: more pushes than slaves, so requests wait and builds merge. Shared by the
    module's tests, which only read."""
    settings = live_settings
    databases = Databases.from_settings(settings)
    init_databases(databases)
    layout = load_layout(settings)
    farm = Farm(
        layout,
        databases,
        VirtualClock(START),
        seed=3,
        speed=1.0,
        zone=settings.zone,
        push_rates={"mozilla-inbound": 30.0, "try": 4.0},
    )
    farm.start()
    farm.advance(3 * 3600.0, tick=120.0)
    yield farm
    databases.dispose()


@pytest.fixture(scope="module")
def farm_client(live_settings: Settings, busy_farm: Farm) -> Iterator[httpx.Client]:
    with make_client(live_settings, busy_farm.databases, busy_farm.layout) as test_client:
        yield test_client


@pytest.fixture
def own_client(
    tmp_path: Path, busy_farm: Farm, request: pytest.FixtureRequest
) -> Iterator[httpx.Client]:
    """A client over the busy farm's databases with settings of the test's own."""
    overrides = getattr(request, "param", {})
    settings = load_settings(data_dir=tmp_path, **broker_names(), **overrides)
    with make_client(settings, busy_farm.databases, busy_farm.layout) as client:
        yield client


def page_charts(html: str) -> dict[str, dict]:
    """The charts a report page hands to its script, by canvas id."""
    found = re.search(
        r'<script type="application/json" id="report-charts-data">(.*?)</script>', html, re.S
    )
    assert found, "the page embeds no chart data"
    return {chart["canvas"]: chart for chart in json.loads(found.group(1))}
