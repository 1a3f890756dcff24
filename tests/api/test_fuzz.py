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
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup

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
# Every check schemathesis has. A valid request may still be refused for what it names or
# when: 403 (a request of another user, a CSRF token that is not the page's), 404 (an unknown
# branch, build or builder), 409 (a request that is no longer pending), all allowed by
# default, and 422 (an Idempotency-Key that an earlier fuzzed request used).
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]
            }
        }
    }
)
# Reads whose time, type and list parameters are plain strings in the description, though only
# some forms are accepted: a schema-valid value may rightly be a 400 there.
LOOSE_PARAMETERS = ("GET /reports", "GET /pushes")
# A form carries `properties` and `files` as JSON text (OpenAPI's `encoding`), which
# schemathesis does not write: it sends the keys of an object, the items of a list.
JSON_TEXT_FORMS = {"POST /self-serve/{branch}/builders/{builder_name}/{revision}"}
FORM = "application/x-www-form-urlencoded"
# A stream that never ends, which a fuzzed call would wait on for ever; tests/pipeline/
# test_events.py drives it over a real server, its bad input too.
ENDLESS = {"GET /events"}


def without_integral_floats(case):  # type: ignore[no-untyped-def]
    """JSON Schema counts 1135.0 as an integer; the fields and query parameters take integers
    written as integers (web/forms.py, web/params.py), so a positive case sends 1135 instead."""
    if not case.meta.generation.mode.is_positive:
        return case
    for part in ("body", "query"):
        values = getattr(case, part)
        if isinstance(values, dict):
            setattr(case, part, {key: _integral(value) for key, value in values.items()})
    return case


def _integral(value):  # type: ignore[no-untyped-def]
    return int(value) if isinstance(value, float) and value.is_integer() else value


def check(case, headers: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    case = without_integral_floats(case)
    label = case.operation.label
    loose = label.startswith(LOOSE_PARAMETERS) or (
        label in JSON_TEXT_FORMS and case.media_type == FORM
    )
    case.call_and_validate(
        headers=headers if case.method.upper() != "GET" else None,
        excluded_checks=[sc.positive_data_acceptance] if loose else None,
    )


def test_endpoints_answer_as_described(live_settings: Settings, busy_farm: Farm) -> None:
    settings = live_settings.model_copy(update={"write_rate_per_minute": 1_000_000})
    app = create_app(settings, busy_farm.databases, busy_farm.layout)
    headers = {"Authorization": f"Bearer {make_token(busy_farm.databases, 'fuzz', ('releng',))}"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=CONFIG)
    operations = [result.ok() for result in schema.get_all_operations()]
    methods = {operation.method.upper() for operation in operations}
    assert len(operations) >= 30 and {"GET", "POST", "PUT", "DELETE"} <= methods
    failures = []
    for operation in (operation for operation in operations if operation.label not in ENDLESS):
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                FUZZ(given(case=operation.as_strategy(mode))(check))(headers=headers)
            except (Unsatisfiable, FailedHealthCheck):
                # Nothing can be wrong with a plain string path parameter, or with no input
                # at all (/metrics): there are no negative cases to send.
                assert mode is GenerationMode.NEGATIVE, operation.label
            except (Exception, FailureGroup) as exc:  # collect every operation's failures
                failures.append(f"{operation.label} {mode.value}: {exc}")
    assert not failures, "\n\n".join(failures)
