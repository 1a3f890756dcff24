"""The push grid over a busy farm: its JSON shape, paging, filters, cost and bad input."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import event

from buildapi.farm.farm import Farm

GRID = "/self-serve/mozilla-inbound/pushes"
JSON = {"Accept": "application/json"}
JOB_KEYS = {
    "buildername", "platform", "label", "state", "result", "build_id", "buildnumber",
    "request_ids", "revision", "submittime", "starttime", "endtime",
}  # fmt: skip


def grid(client: httpx.Client, **params: str | int) -> dict:
    response = client.get(GRID, params=params, headers=JSON)
    assert response.status_code == 200, response.text
    return response.json()


def jobs_of(data: dict) -> list[dict]:
    return [job for push in data["pushes"] for job in push["jobs"]]


def test_shape_order_and_paging(farm_client: httpx.Client) -> None:
    first = grid(farm_client, num=5)
    assert first["branch"] == "mozilla-inbound"
    ids = [push["push_id"] for push in first["pushes"]]
    assert len(ids) == 5 and ids == sorted(ids, reverse=True)
    assert first["older"] == ids[-1]
    for push in first["pushes"]:
        assert set(push) == {"push_id", "revision", "author", "comments", "pushed_at", "jobs"}
        for job in push["jobs"]:
            assert set(job) == JOB_KEYS
            assert job["revision"] == push["revision"]
            assert job["state"] in ("pending", "running", "finished")
            if job["state"] != "finished":
                assert job["result"] is None
    assert first["platforms"] == sorted({job["platform"] for job in jobs_of(first)})
    second = grid(farm_client, num=5, before=first["older"])
    assert all(push["push_id"] < ids[-1] for push in second["pushes"])
    assert not {p["revision"] for p in second["pushes"]} & {p["revision"] for p in first["pushes"]}


def test_merged_requests_are_one_job_shown_once(farm_client: httpx.Client) -> None:
    data = grid(farm_client, num=100)
    build_ids = [job["build_id"] for job in jobs_of(data) if job["build_id"] is not None]
    assert len(build_ids) == len(set(build_ids))
    merged = [job for job in jobs_of(data) if len(job["request_ids"]) > 1]
    assert merged, "the busy farm merges requests"


def test_a_push_holds_the_builds_of_its_revision_page(farm_client: httpx.Client) -> None:
    pushes = grid(farm_client, num=100)["pushes"]
    push = next(p for p in pushes if any(job["build_id"] for job in p["jobs"]))
    items = farm_client.get(f"/self-serve/mozilla-inbound/rev/{push['revision']}", headers=JSON)
    # The revision page lists a build merging several pushes under each of them, the grid once.
    on_revision = {item["build_id"] for item in items.json() if "build_id" in item}
    shown = {job["build_id"] for job in push["jobs"] if job["build_id"] is not None}
    assert shown and shown <= on_revision


@pytest.mark.parametrize(
    ("name", "value", "field", "expected"),
    [("state", "finished", "state", "finished"), ("result", "success", "result", 0),
     ("result", "5", "result", 5), ("platform", "linux64", "platform", "linux64")],
)  # fmt: skip
def test_job_filters(
    farm_client: httpx.Client, name: str, value: str, field: str, expected: object
) -> None:
    data = grid(farm_client, num=50, **{name: value})
    jobs = jobs_of(data)
    assert jobs and all(job[field] == expected for job in jobs)
    assert len(data["pushes"]) == 50  # the pushes stay, only their jobs are filtered


def test_builder_and_author_filters(farm_client: httpx.Client) -> None:
    jobs = jobs_of(grid(farm_client, num=20, builder="LEAK TEST"))
    assert jobs and all("leak test" in job["buildername"] for job in jobs)
    author = grid(farm_client, num=1)["pushes"][0]["author"]
    theirs = grid(farm_client, num=100, author=author.split("@")[0])["pushes"]
    assert theirs and all(author.split("@")[0] in push["author"] for push in theirs)


@pytest.fixture
def statements(busy_farm: Farm) -> Iterator[list[str]]:
    seen: list[str] = []
    engine = busy_farm.databases.schedulerdb

    def record(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def test_a_page_costs_two_statements(farm_client: httpx.Client, statements: list[str]) -> None:
    data = grid(farm_client, num=50)
    assert len(data["pushes"]) == 50
    assert len(statements) == 2


def test_page_and_alias(farm_client: httpx.Client) -> None:
    page = farm_client.get(GRID, params={"num": 2})
    assert page.status_code == 200
    assert page.text.count('class="cell ') == len(jobs_of(grid(farm_client, num=2)))
    alias = farm_client.get("/grid/mozilla-inbound", params={"state": "pending"})
    assert alias.status_code == 302
    assert alias.headers["location"].endswith(f"{GRID}?state=pending")


@pytest.mark.parametrize(
    ("path", "status", "msg"),
    [
        ("/self-serve/nowhere/pushes", 404, "Branch nowhere not found"),
        ("/grid/nowhere", 404, "Branch nowhere not found"),
        (f"{GRID}?state=done", 400, "state must be one of pending, running, finished"),
        (f"{GRID}?result=green", 400, "result must be a code 0-6 or one of success"),
        (f"{GRID}?before=x", 400, "must be an integer"),
        (f"{GRID}?num=0", 400, "num"),
        (f"{GRID}?num=101", 400, "num"),
    ],
)
def test_bad_input(farm_client: httpx.Client, path: str, status: int, msg: str) -> None:
    response = farm_client.get(path, headers=JSON)
    assert response.status_code == status
    body = response.json()
    assert body["status"] == "FAILED" and msg in body["msg"]
