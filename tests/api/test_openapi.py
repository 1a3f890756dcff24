"""/openapi.json describes every operation, and real answers over a busy farm match it."""

from __future__ import annotations

import datetime
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis import checks as sc

from buildapi.config import Settings
from buildapi.dumps.run import FOUR_HOURS, PENDING, RUNNING, write_live_dumps
from buildapi.farm.farm import Farm
from buildapi.web.app import create_app
from buildapi.web.openapi import ONLY_HTML, OWN_TYPES, SUCCESS_TYPES
from tests.tokens import make_token
from tests.unit.farm.invariants import rows

FAILED = {"$ref": "#/components/schemas/Failed"}
# These take no format and no input that can be malformed: they cannot answer 400.
NO_BAD_INPUT = {"GET /metrics", "GET /builddata/buildjson/{name}", "GET /events"}
CHECKS = [
    sc.not_a_server_error,
    sc.status_code_conformance,
    sc.content_type_conformance,
    sc.response_headers_conformance,
    sc.response_schema_conformance,
]


@pytest.fixture(scope="module")
def description(farm_client: httpx.Client) -> dict[str, Any]:
    return farm_client.get("/openapi.json").json()


def operations(description: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{method.upper()} {path}", operation)
        for path, methods in description["paths"].items()
        for method, operation in methods.items()
    ]


def test_every_operation_declares_its_answers(description: dict[str, Any]) -> None:
    for label, operation in operations(description):
        responses = operation["responses"]
        success = [answer for code, answer in responses.items() if code.startswith(("2", "3"))]
        assert any(
            media.get("schema")
            for answer in success
            for media in answer.get("content", {}).values()
        ), label
        if label not in NO_BAD_INPUT:
            assert responses["400"]["content"]["application/json"]["schema"] == FAILED, label
        assert "HTTPValidationError" not in str(responses), label
        if not label.startswith("GET "):
            assert operation["security"] == [{"basic": []}, {"bearer": []}], label
            assert {"202", "302", "401", "403", "422", "429"} <= set(responses), label
            assert "Retry-After" in responses["429"]["headers"], label


def test_parameter_bounds_are_json_schema(description: dict[str, Any]) -> None:
    """Clients and fuzzers read `minimum`/`maximum`; pydantic's own names mean nothing there."""
    bounded = {}
    for label, operation in operations(description):
        for parameter in operation.get("parameters", ()):
            schemas = [parameter["schema"], *parameter["schema"].get("anyOf", ())]
            assert not any({"ge", "le", "gt", "lt"} & set(schema) for schema in schemas), label
            for schema in schemas:
                if "maximum" in schema:
                    bounded[(label, parameter["name"])] = schema
    assert bounded[("GET /recent", "numbuilds")]["minimum"] == 1
    assert bounded[("GET /recent", "numbuilds")]["maximum"] == 1000
    assert bounded[("DELETE /self-serve/{branch}/build/{build_id}", "build_id")]["maximum"] > 0


def test_schemes_and_components(description: dict[str, Any]) -> None:
    components = description["components"]
    assert {name: s["scheme"] for name, s in components["securitySchemes"].items()} == {
        "basic": "basic",
        "bearer": "bearer",
    }
    assert "HTTPValidationError" not in components["schemas"]
    assert components["schemas"]["Failed"]["required"] == ["status", "msg"]


def test_the_schema_tables_name_real_paths(description: dict[str, Any]) -> None:
    reads = {path for path, methods in description["paths"].items() if "get" in methods}
    assert set(SUCCESS_TYPES) | ONLY_HTML | set(OWN_TYPES) <= reads
    assert reads - set(SUCCESS_TYPES) <= ONLY_HTML | {"/metrics", "/events"}


class Answers:
    """GETs (and one write) through the description, each answer checked against it."""

    def __init__(self, settings: Settings, farm: Farm) -> None:
        app = create_app(settings, farm.databases, farm.layout)
        self.schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        token = make_token(farm.databases, "describer", ("releng",))
        self.auth = {"Authorization": f"Bearer {token}"}

    def get(self, path: str, query: dict[str, Any] | None = None, **params: Any) -> Any:
        return self.call("GET", path, query, params)

    def call(
        self, method: str, path: str, query: dict[str, Any] | None, params: dict[str, Any]
    ) -> Any:
        operation = self.schema[path][method]
        case = operation.Case(path_parameters=params, query={"format": "json", **(query or {})})
        headers = self.auth if method != "GET" else None
        response = case.call_and_validate(headers=headers, checks=CHECKS)
        assert response.status_code < 300, (path, response.text)
        return response.json()


@pytest.fixture(scope="module")
def answers(live_settings: Settings, busy_farm: Farm) -> Answers:
    return Answers(live_settings, busy_farm)


def test_live_and_dump_answers_match(answers: Answers) -> None:
    branch = "mozilla-inbound"
    for path in ("/", "/livez", "/readyz", "/healthz", "/builddata/buildjson", "/pushes"):
        answers.get(path)
    answers.get(
        "/pushes/{branch}/{fromtime}/{totime}", branch=branch, fromtime="0", totime=2**31 - 1
    )
    pending = answers.get("/pending/{branch}", branch=branch)["pending"]
    running = answers.get("/running")["running"]
    assert pending and running
    revision = next(iter(running[branch]))
    answers.get("/revision/{branch}/{revision}", branch=branch, revision=revision)
    recent = answers.get("/recent", {"numbuilds": 50})
    assert recent
    answers.get("/recent/{slave}", slave=recent[0]["slavename"])


def test_self_serve_answers_match(
    answers: Answers, live_settings: Settings, busy_farm: Farm
) -> None:
    branch = "mozilla-inbound"
    answers.get("/self-serve")
    answers.get("/self-serve/branches")
    answers.get("/self-serve/{branch}/builders", branch=branch)
    day = datetime.datetime.fromtimestamp(busy_farm.clock.now(), live_settings.zone).date()
    items = answers.get("/self-serve/{branch}", {"date": day.isoformat()}, branch=branch)
    build = next(item for item in items if "build_id" in item)
    answers.get("/self-serve/{branch}/build/{build_id}", branch=branch, build_id=build["build_id"])
    request_id = build["requests"][0]["request_id"]
    answers.get("/self-serve/{branch}/request/{request_id}", branch=branch, request_id=request_id)
    for path in (
        "/self-serve/{branch}/rev/{revision}",
        "/self-serve/{branch}/rev/{revision}/is_done",
    ):
        answers.get(path, branch=branch, revision=build["revision"])
    ((author,),) = rows(busy_farm.databases.schedulerdb, "SELECT author FROM changes LIMIT 1")
    answers.get("/self-serve/{branch}/user/{user}", branch=branch, user=author)
    accepted = answers.call(
        "POST", "/self-serve/{branch}/build", {"build_id": build["build_id"]}, {"branch": branch}
    )
    assert accepted["status"] == "OK"
    answers.get("/self-serve/jobs/{job_id}", job_id=accepted["request_id"])
    assert answers.get("/self-serve/jobs")


def test_report_answers_match(answers: Answers, busy_farm: Farm) -> None:
    now = int(busy_farm.clock.now())
    window = {"starttime": str(now - 3 * 3600), "endtime": str(now)}
    for path in (
        "/reports/waittimes",
        "/reports/status_builders",
        "/reports/testruns",
        "/reports/idlejobs",
        "/reports/pushes",
        "/reports/endtoend",
        "/reports/trychooser",
        "/reports/builders",
    ):
        answers.get(path, window)
    answers.get("/reports")
    slaves = answers.get("/reports/slaves", window)["slaves"]
    answers.get("/reports/slaves/{slave_id}", window, slave_id=slaves[0]["slave_id"])
    builders = answers.get(
        "/reports/builders/{branch}",
        {**window, "detail_level": "builder"},
        branch="mozilla-inbound",
    )
    name = builders["builders"][0]["buildername"]
    answers.get("/reports/builder/{name}", window, name=name)
    runs = answers.get("/reports/endtoend/{branch}", window, branch="mozilla-inbound")
    revision = next(iter(runs["build_runs"].values()))["revision"]
    answers.get(
        "/reports/revision/{branch}/{revision}", branch="mozilla-inbound", revision=revision
    )


def test_dump_answers_match(answers: Answers, live_settings: Settings, busy_farm: Farm) -> None:
    now = busy_farm.clock.now()
    write_live_dumps(busy_farm.databases, busy_farm.layout, live_settings.dumps_path, now)
    files = answers.get("/builddata/buildjson")["files"]
    assert {PENDING, RUNNING, FOUR_HOURS} <= set(files)
    for name in files:
        answers.get("/builddata/buildjson/{name}", name=name)


def test_write_bodies_say_what_they_need(description: dict[str, Any]) -> None:
    """Each write with fields describes them, the same for a form and for JSON."""
    required = {
        "POST /self-serve/{branch}/build": ["build_id"],
        "POST /self-serve/{branch}/request": ["request_id"],
        "PUT /self-serve/{branch}/request/{request_id}": ["priority"],
        "POST /self-serve/{branch}/rev/{revision}/nightly": [],
        "POST /self-serve/{branch}/rev/{revision}/pgo": [],
        "POST /self-serve/{branch}/builders/{builder_name}/{revision}": [],
    }
    bodies = {
        label: operation["requestBody"]
        for label, operation in operations(description)
        if "requestBody" in operation
    }
    assert set(bodies) == set(required)
    for label, body in bodies.items():
        form = body["content"]["application/x-www-form-urlencoded"]
        schema = body["content"]["application/json"]["schema"]
        assert form["schema"] == schema, label
        assert schema.get("required", []) == required[label], label
        assert body["required"] is bool(required[label]), label
        assert "csrf_token" in schema["properties"], label
    build = bodies["POST /self-serve/{branch}/build"]["content"]["application/json"]["schema"]
    fields = build["properties"]
    assert (fields["build_id"]["minimum"], fields["build_id"]["maximum"]) == (0, 2**31 - 1)
    assert (fields["count"]["minimum"], fields["count"]["maximum"]) == (1, 100)
    builder = bodies["POST /self-serve/{branch}/builders/{builder_name}/{revision}"]
    assert builder["content"]["application/x-www-form-urlencoded"]["encoding"] == {
        "properties": {"contentType": "application/json"},
        "files": {"contentType": "application/json"},
    }


def test_revisions_checked_by_hand_say_their_form(description: dict[str, Any]) -> None:
    """A fuzzer sent `?rev=M%11` as valid and got the 400 the route gives: the schema must say
    what a revision is wherever one is read, in the path and in a branch page's jump."""
    found = {
        (path, parameter["name"]): parameter["schema"].get("pattern")
        for path, operations in description["paths"].items()
        for operation in operations.values()
        for parameter in operation.get("parameters", ())
        if (parameter["name"], parameter["in"]) in (("revision", "path"), ("rev", "query"))
    }
    assert ("/self-serve/{branch}", "rev") in found
    assert set(found.values()) == {"^[0-9a-fA-F]{12,40}$"}
