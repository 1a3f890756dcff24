"""The write quota and Idempotency-Key: every new request counts by its weight, a retry of the
same request counts once, and a key reused for another request is a 422."""

from __future__ import annotations

import uuid

import httpx
import pytest

from buildapi.farm.farm import Farm
from tests.api.test_actions import BRANCH, a_build, a_revision, bearer, job_count
from tests.tokens import make_token


def user_headers(farm: Farm) -> dict[str, str]:
    """Credentials of a user of the test's own, so no other test's writes count."""
    return bearer(make_token(farm.databases, f"{uuid.uuid4().hex[:8]}@example.com"))


def with_key(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


@pytest.mark.parametrize("own_client", [{"write_rate_per_minute": 5}], indirect=True)
def test_fresh_keys_count(own_client: httpx.Client, busy_farm: Farm) -> None:
    headers = user_headers(busy_farm)
    path = f"/self-serve/{BRANCH}/build/{a_build(busy_farm.databases, running=True)}"
    codes = [
        own_client.delete(path, headers=with_key(headers, f"fresh-{n}")).status_code
        for n in range(5)
    ]
    assert codes == [202] * 5
    limited = own_client.delete(path, headers=with_key(headers, "fresh-5"))
    assert limited.status_code == 429, limited.text
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert limited.json()["status"] == "FAILED"


@pytest.mark.parametrize("own_client", [{"write_rate_per_minute": 3}], indirect=True)
def test_a_retried_key_counts_once(own_client: httpx.Client, busy_farm: Farm) -> None:
    headers = user_headers(busy_farm)
    path = f"/self-serve/{BRANCH}/build/{a_build(busy_farm.databases, running=True)}"
    retries = [own_client.delete(path, headers=with_key(headers, "again")) for _ in range(5)]
    assert {response.status_code for response in retries} == {202}
    assert len({response.json()["request_id"] for response in retries}) == 1
    others = [own_client.delete(path, headers=with_key(headers, key)) for key in "ab"]
    assert [response.status_code for response in others] == [202, 202]
    assert own_client.delete(path, headers=with_key(headers, "c")).status_code == 429
    # Over the limit, a retry of a recorded request still gets its id.
    late = own_client.delete(path, headers=with_key(headers, "again"))
    assert (late.status_code, late.json()["request_id"]) == (202, retries[0].json()["request_id"])


@pytest.mark.parametrize("own_client", [{"write_rate_per_minute": 10}], indirect=True)
def test_count_weighs_in_the_limit(own_client: httpx.Client, busy_farm: Farm) -> None:
    headers = user_headers(busy_farm)
    path = f"/self-serve/{BRANCH}/build"
    build = str(a_build(busy_farm.databases))

    def rebuild(count: int) -> httpx.Response:
        return own_client.post(path, data={"build_id": build, "count": count}, headers=headers)

    assert rebuild(8).status_code == 202
    limited = rebuild(3)
    assert limited.status_code == 429, limited.text
    assert "counting 8" in limited.json()["msg"] and "limit is 10" in limited.json()["msg"]
    # All of the 8 leaves the window at once, 60 s after it was recorded.
    assert 59 <= int(limited.headers["retry-after"]) <= 60
    assert rebuild(2).status_code == 202
    assert rebuild(1).status_code == 429


@pytest.mark.parametrize("own_client", [{"write_rate_per_minute": 10}], indirect=True)
def test_a_count_over_the_limit_alone_is_400(own_client: httpx.Client, busy_farm: Farm) -> None:
    before = job_count(busy_farm.databases)
    response = own_client.post(
        f"/self-serve/{BRANCH}/build",
        data={"build_id": str(a_build(busy_farm.databases)), "count": "11"},
        headers=user_headers(busy_farm),
    )
    assert response.status_code == 400, response.text
    assert response.json()["msg"] == "count 11 is over the limit of 10 builds a minute"
    assert job_count(busy_farm.databases) == before


def test_a_key_reused_for_another_request_is_422(
    farm_client: httpx.Client, busy_farm: Farm
) -> None:
    headers = with_key(user_headers(busy_farm), "k-17")
    revision = a_revision(busy_farm.databases)
    path = f"/self-serve/{BRANCH}/rev/{revision}"
    first = farm_client.post(path, headers=headers)
    assert first.status_code == 202
    job_id = first.json()["request_id"]
    before = job_count(busy_farm.databases)
    for method, other in (
        ("POST", f"/self-serve/try/rev/{a_revision(busy_farm.databases, 'try')}"),  # another branch
        ("DELETE", path),  # another action
        ("POST", f"{path}/pgo"),  # another action, same arguments
    ):
        response = farm_client.request(method, other, headers=headers)
        assert response.status_code == 422, (other, response.text)
        assert response.json() == {
            "status": "FAILED",
            "msg": f"Idempotency-Key 'k-17' was used for a different request (job {job_id})",
        }
    build = str(a_build(busy_farm.databases))
    rebuild = f"/self-serve/{BRANCH}/build"
    body_key = with_key(headers, "k-body")
    assert farm_client.post(rebuild, data={"build_id": build}, headers=body_key).status_code == 202
    other_body = farm_client.post(rebuild, data={"build_id": build, "count": 2}, headers=body_key)
    assert other_body.status_code == 422 and "'k-body'" in other_body.json()["msg"]
    assert job_count(busy_farm.databases) == before + 1
    again = farm_client.post(path, headers=headers)
    assert (again.status_code, again.json()["request_id"]) == (202, job_id)
    assert job_count(busy_farm.databases) == before + 1
