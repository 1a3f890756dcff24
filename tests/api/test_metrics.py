"""/metrics on a busy farm: the readings taken at scrape time agree with the farm's own rows
and with the wait-time report, and a part that cannot be read says so instead of failing."""

from __future__ import annotations

import re
from collections import Counter

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.exc import OperationalError

from buildapi.config import Settings
from buildapi.db.queries.live import pending_rows, running_rows
from buildapi.farm.farm import Farm
from buildapi.reports.waittimes import BlockParams, pool_wait_times
from buildapi.reports.window import Window
from buildapi.selfserve.broker import Broker
from buildapi.vocabulary import POOL_NAMES
from buildapi.web.scraped import UNKNOWN_POOL, WAIT_WINDOW_SECONDS, Readings, within
from tests.test_docs import ROOT


@pytest.fixture(scope="module")
def families(live_settings: Settings, busy_farm: Farm) -> dict[str, object]:
    readings = Readings(
        busy_farm.databases, busy_farm.layout, Broker(live_settings), 5.0, 60.0, busy_farm.clock.now
    )
    return {family.name: family for family in readings.collect()}


def values(family, name: str | None = None) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Sample value by its `pool` (or `state`, `queue`, `database`) label."""
    found = {}
    for sample in family.samples:
        if name is None or sample.name == name:
            found[next(iter(sample.labels.values()), "") if sample.labels else ""] = sample.value
    return found


def pools_of(busy_farm: Farm, builders: list[str]) -> Counter[str]:
    pools: Counter[str] = Counter()
    for name in builders:
        builder = busy_farm.layout.builders.get(name)
        pools[builder.pool if builder and builder.pool else UNKNOWN_POOL] += 1
    return pools


def test_pending_and_running_per_pool_match_the_live_rows(families, busy_farm: Farm) -> None:  # type: ignore[no-untyped-def]
    with busy_farm.databases.schedulerdb.connect() as connection:
        pending = pools_of(busy_farm, [row[3] for row in pending_rows(connection)])
        running = pools_of(
            busy_farm, [row[4] for row in {r[1]: r for r in running_rows(connection)}.values()]
        )
    assert sum(pending.values()) > 0 and sum(running.values()) > 0  # a busy farm
    assert values(families["buildapi_pool_pending_requests"]) == {
        pool: float(pending[pool]) for pool in (*POOL_NAMES, UNKNOWN_POOL)
    }
    assert values(families["buildapi_pool_running_requests"]) == {
        pool: float(running[pool]) for pool in (*POOL_NAMES, UNKNOWN_POOL)
    }


def test_wait_times_count_what_the_report_counts(families, busy_farm: Farm) -> None:  # type: ignore[no-untyped-def]
    family = families["buildapi_pool_wait_seconds"]
    now = busy_farm.clock.now()
    window = Window(now - WAIT_WINDOW_SECONDS, now, WAIT_WINDOW_SECONDS)
    counted = 0
    for pool in POOL_NAMES:
        buckets = [
            sample.value
            for sample in family.samples
            if sample.name.endswith("_bucket") and sample.labels["pool"] == pool
        ]
        assert buckets == sorted(buckets)  # cumulative
        gcount = values(family, "buildapi_pool_wait_seconds_gcount")[pool]
        assert buckets[-1] == gcount
        with busy_farm.databases.schedulerdb.connect() as connection:
            report = pool_wait_times(
                connection, busy_farm.layout, pool, window, BlockParams.checked(None, None)
            )
        assert gcount == report["total"]
        counted += int(gcount)
    assert counted > 0


def test_job_states_databases_and_broker(families) -> None:  # type: ignore[no-untyped-def]
    assert set(values(families["buildapi_job_requests_in_state"])) == {"recorded", "published"}
    assert values(families["buildapi_db_up"]) == {"buildapi_db": 1.0, "schedulerdb": 1.0}
    assert set(values(families["buildapi_broker_queue_messages"])) == {
        "requests",
        "requests.retry",
        "finished",
        "finished.retry",
        "dead",
    }
    assert values(families["buildapi_broker_up"]) == {"": 1.0}
    assert values(families["buildapi_agents_alive"]) == {"": 0.0}


class DownEngine:
    def connect(self):  # type: ignore[no-untyped-def]
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))


class HungBroker:
    def queue_depths(self) -> dict[str, int]:
        import threading

        threading.Event().wait(30)
        return {}


def test_a_part_that_cannot_be_read_reports_itself_down(
    live_settings: Settings, busy_farm: Farm
) -> None:
    import dataclasses
    import time

    databases = dataclasses.replace(busy_farm.databases, buildapi_db=DownEngine())
    readings = Readings(databases, busy_farm.layout, HungBroker(), 0.5, 60.0, busy_farm.clock.now)  # type: ignore[arg-type]
    started = time.monotonic()
    found = {family.name: family for family in readings.collect()}
    assert time.monotonic() - started < 10  # the broker's wait is bounded
    assert values(found["buildapi_db_up"]) == {"buildapi_db": 0.0, "schedulerdb": 1.0}
    assert values(found["buildapi_broker_up"]) == {"": 0.0}
    assert "buildapi_job_requests_in_state" not in found
    assert "buildapi_pool_pending_requests" in found


def test_within_returns_raises_and_times_out() -> None:
    assert within(1.0, lambda: 7) == 7
    with pytest.raises(ZeroDivisionError):
        within(1.0, lambda: 1 / 0)
    with pytest.raises(TimeoutError):
        within(0.1, HungBroker().queue_depths)


def test_the_route_serves_it_all_as_prometheus_text(farm_client: httpx.Client) -> None:
    response = farm_client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    names = {family.name for family in text_string_to_metric_families(response.text)}
    assert {
        "buildapi_http_request_duration_seconds",
        "buildapi_job_requests",
        "buildapi_pool_wait_seconds",
        "buildapi_broker_queue_messages",
    } <= names
    documented = (ROOT / "docs" / "monitoring.md").read_text(encoding="utf-8")
    # prometheus-client's extra series of a family parse as families of their own
    families = {re.sub(r"_(created|gcount|gsum)$", "", name) for name in names}
    for name in sorted(name for name in families if name.startswith("buildapi_")):
        assert re.search(rf"`{name}(_total)?`", documented), f"{name} is not in monitoring.md"
