"""One form for integers in text, in writes and reads alike: ASCII digits, a leading minus where
negatives are allowed; anything else int() or pydantic would take is a 400 naming the field."""

from __future__ import annotations

import httpx
import pytest

from buildapi.farm.farm import Farm
from tests.api.test_actions import BRANCH, a_build, bearer, request_ids
from tests.tokens import make_token

LOOSE = ["+5", "1_000", " 7 ", "１２٣", "7.0", "0x10"]


@pytest.fixture(scope="module")
def token(busy_farm: Farm) -> str:
    return make_token(busy_farm.databases, "integers@example.com")


def write_cases(farm: Farm) -> dict[str, tuple[str, str, dict[str, str]]]:
    """field -> (method, path, the other fields of a good request)."""
    build_id = str(a_build(farm.databases))
    pending = str(request_ids(farm.databases, claimed=False, complete=False)[0])
    return {
        "build_id": ("POST", f"/self-serve/{BRANCH}/build", {}),
        "request_id": ("POST", f"/self-serve/{BRANCH}/request", {}),
        "count": ("POST", f"/self-serve/{BRANCH}/build", {"build_id": build_id}),
        "priority": ("PUT", f"/self-serve/{BRANCH}/request/{pending}", {}),
    }


@pytest.mark.parametrize("text", LOOSE)
@pytest.mark.parametrize("field", ["build_id", "request_id", "count", "priority"])
@pytest.mark.parametrize("body", ["form", "json"])
def test_loose_integers_in_writes_are_400(
    farm_client: httpx.Client, busy_farm: Farm, token: str, field: str, text: str, body: str
) -> None:
    method, path, others = write_cases(busy_farm)[field]
    fields = {**others, field: text}
    sent = {"data": fields} if body == "form" else {"json": fields}
    response = farm_client.request(method, path, headers=bearer(token), **sent)
    assert response.status_code == 400, response.text
    assert response.json() == {
        "status": "FAILED",
        "msg": f"{field} must be an integer in ASCII digits (no sign but -), not {text!r}",
    }


@pytest.mark.parametrize("value", [7.0, True, "7e0"])
def test_json_numbers_must_be_integers(
    farm_client: httpx.Client, busy_farm: Farm, token: str, value: object
) -> None:
    path = f"/self-serve/{BRANCH}/build"
    fields = {"build_id": a_build(busy_farm.databases), "count": value}
    response = farm_client.post(path, json=fields, headers=bearer(token))
    assert response.status_code == 400, response.text
    assert response.json()["msg"].startswith("count must be an integer")


@pytest.mark.parametrize(("priority", "body"), [("7", "form"), ("-5", "form"), (-5, "json")])
def test_plain_integers_are_accepted(
    farm_client: httpx.Client, busy_farm: Farm, token: str, priority: object, body: str
) -> None:
    build_id = a_build(busy_farm.databases)
    fields = {"build_id": build_id, "count": "2" if body == "form" else 2, "priority": priority}
    if body == "form":
        fields["build_id"] = str(build_id)
    sent = {"data": fields} if body == "form" else {"json": fields}
    response = farm_client.post(f"/self-serve/{BRANCH}/build", headers=bearer(token), **sent)
    assert response.status_code == 202, response.text


READS = [
    ("/self-serve/jobs?num={}", "num"),
    ("/self-serve/jobs?offset={}", "offset"),
    ("/self-serve/jobs/{}", "job_id"),
    ("/self-serve/try/build/{}", "build_id"),
    ("/self-serve/try/request/{}", "request_id"),
    ("/self-serve/try/rev/abcdefabcdef?stableDelay={}", "stableDelay"),
    ("/recent?numbuilds={}", "numbuilds"),
    ("/pushes?fromtime=0&totime={}", "totime"),
    ("/pushes/try/0/{}", "totime"),
    ("/reports/waittimes?mpb={}", "mpb"),
    ("/reports/waittimes?int_size={}", "int_size"),
    ("/reports/slaves?last_int_size={}", "last_int_size"),
    ("/reports/slaves/{}", "slave_id"),
]


@pytest.mark.parametrize("text", LOOSE)
@pytest.mark.parametrize(("template", "name"), READS)
def test_loose_integers_in_reads_are_400(
    client: httpx.Client, template: str, name: str, text: str
) -> None:
    response = client.get(template.format(text), headers={"Accept": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()["status"] == "FAILED"
    assert response.json()["msg"].startswith(f"bad parameter {name!r}: must be an integer")


@pytest.mark.parametrize(("template", "name"), READS)
def test_plain_integers_in_reads_are_served(client: httpx.Client, template: str, name: str) -> None:
    plain = "3600" if name == "int_size" else "7"  # 7-second intervals would be too many
    response = client.get(template.format(plain), headers={"Accept": "application/json"})
    assert response.status_code in (200, 404), response.text  # 404: no such object
