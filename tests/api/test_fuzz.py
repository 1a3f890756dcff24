"""Fuzz every endpoint from /openapi.json: bad input is a 4xx FAILED body, never a 500.
Writes are sent with a valid token, so the fuzzing reaches their validation."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings

from buildapi.config import Settings
from buildapi.farm.farm import Farm
from buildapi.web.app import create_app
from tests.tokens import make_token

FUZZ = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)


def check(case, headers: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    response = case.call(headers=headers if case.method.upper() != "GET" else None)
    where = f"{case.method} {case.formatted_path}"
    assert response.status_code < 500, f"{where}: {response.text}"
    if response.status_code >= 400 and "json" in response.headers.get("content-type", ""):
        body = response.json()
        assert body["status"] == "FAILED" and body["msg"], where


def test_endpoints_never_fail_on_bad_input(live_settings: Settings, busy_farm: Farm) -> None:
    settings = live_settings.model_copy(update={"write_rate_per_minute": 1_000_000})
    app = create_app(settings, busy_farm.databases, busy_farm.layout)
    headers = {"Authorization": f"Bearer {make_token(busy_farm.databases, 'fuzz', ('releng',))}"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    methods = {operation.method.upper() for operation in operations}
    assert len(operations) >= 30 and {"GET", "POST", "PUT", "DELETE"} <= methods
    for operation in operations:
        FUZZ(given(case=operation.as_strategy())(check))(headers=headers)
