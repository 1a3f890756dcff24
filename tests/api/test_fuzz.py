"""Fuzz every endpoint from /openapi.json and check each answer against the description with
schemathesis's checks: no 5xx, only declared status codes, content types and headers, bodies
that match their schemas (FAILED bodies for errors), bad input refused. Writes are sent with
a valid token, so the fuzzing reaches their validation."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import FailedHealthCheck, Unsatisfiable
from schemathesis import GenerationMode
from schemathesis import checks as sc

from buildapi.config import Settings
from buildapi.farm.farm import Farm
from buildapi.web.app import create_app
from tests.tokens import make_token

# Per operation and mode; two modes over ~55 operations stay within CI's time on 2 cores.
FUZZ = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
    database=None,
)
# Every check schemathesis has but one: the write bodies are described as "form or JSON
# fields" (any object), so a schema-valid body may well lack `build_id` and rightly be a 400.
EXCLUDED = [sc.positive_data_acceptance]


def check(case, headers: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    case.call_and_validate(
        headers=headers if case.method.upper() != "GET" else None, excluded_checks=EXCLUDED
    )


def test_endpoints_answer_as_described(live_settings: Settings, busy_farm: Farm) -> None:
    settings = live_settings.model_copy(update={"write_rate_per_minute": 1_000_000})
    app = create_app(settings, busy_farm.databases, busy_farm.layout)
    headers = {"Authorization": f"Bearer {make_token(busy_farm.databases, 'fuzz', ('releng',))}"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    methods = {operation.method.upper() for operation in operations}
    assert len(operations) >= 30 and {"GET", "POST", "PUT", "DELETE"} <= methods
    failures = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                FUZZ(given(case=operation.as_strategy(mode))(check))(headers=headers)
            except (Unsatisfiable, FailedHealthCheck):
                # Nothing can be wrong with a plain string path parameter, or with no input
                # at all (/metrics): there are no negative cases to send.
                assert mode is GenerationMode.NEGATIVE, operation.label
            except Exception as exc:  # collect every operation's failure, then fail once
                failures.append(f"{operation.label} {mode.value}: {exc}")
    assert not failures, "\n\n".join(failures)
