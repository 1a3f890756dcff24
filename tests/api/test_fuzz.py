"""Fuzz every read endpoint from /openapi.json: bad input is a 4xx FAILED body, never a 500."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings

from buildapi.config import Settings
from buildapi.farm.farm import Farm
from buildapi.web.app import create_app

FUZZ = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)


def check(case) -> None:  # type: ignore[no-untyped-def]
    response = case.call()
    where = f"{case.method} {case.formatted_path}"
    assert response.status_code < 500, f"{where}: {response.text}"
    if response.status_code >= 400 and "json" in response.headers.get("content-type", ""):
        body = response.json()
        assert body["status"] == "FAILED" and body["msg"], where


def test_read_endpoints_never_fail_on_bad_input(live_settings: Settings, busy_farm: Farm) -> None:
    app = create_app(live_settings, busy_farm.databases, busy_farm.layout)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:
        assert operation.method.upper() == "GET", "only reads are fuzzed here"
        FUZZ(given(case=operation.as_strategy())(check))()
