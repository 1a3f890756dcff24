"""/pending and /running over a farm's databases: legacy keys and types, grouping, bad input."""

from __future__ import annotations

import httpx
import pytest

from buildapi.farm.farm import Farm
from tests.api.statements import sent_statements
from tests.unit.farm.invariants import rows


def entries(tree: dict) -> list[tuple[str, str, dict]]:
    return [
        (branch, revision, item)
        for branch, revisions in tree.items()
        for revision, items in revisions.items()
        for item in items
    ]


def test_pending_shape(farm_client: httpx.Client, busy_farm: Farm) -> None:
    data = farm_client.get("/pending?format=json").json()
    assert list(data) == ["pending"]
    found = entries(data["pending"])
    assert found, "a busy farm has pending requests"
    for branch, revision, item in found:
        assert branch in busy_farm.layout.branches or branch == "Unknown"
        assert len(revision) == 40
        assert set(item) == {"id", "buildername", "submitted_at"}
        assert isinstance(item["id"], int) and isinstance(item["submitted_at"], int)
    with busy_farm.databases.schedulerdb.connect() as connection:
        count = connection.exec_driver_sql(
            "SELECT COUNT(*) FROM buildrequests WHERE claimed_at = 0 AND complete = 0"
        ).scalar()
    assert len(found) == count


def test_running_shape_folds_merged_requests(farm_client: httpx.Client, busy_farm: Farm) -> None:
    data = farm_client.get("/running", headers={"Accept": "application/json"}).json()
    found = entries(data["running"])
    assert len(found) == len(busy_farm.running)
    keys = {
        "id", "revision", "request_ids", "submitted_at", "buildername", "last_heartbeat",
        "claimed_by_name", "start_time", "number",
    }  # fmt: skip
    by_requests = {tuple(build.brids): build for build in busy_farm.running.values()}
    merged = 0
    for _branch, revision, item in found:
        assert set(item) == keys
        assert item["request_ids"] == sorted(item["request_ids"])
        build = by_requests[tuple(item["request_ids"])]
        assert item["number"] == build.number and item["buildername"] == build.buildername
        assert item["revision"] == revision
        merged += len(item["request_ids"]) > 1
    assert merged, "a busy farm merges requests"
    pending = farm_client.get("/pending?format=json").json()["pending"]
    pending_ids = {item["id"] for _b, _r, item in entries(pending)}
    running_ids = {brid for _b, _r, item in found for brid in item["request_ids"]}
    assert not pending_ids & running_ids


def test_branch_filter(farm_client: httpx.Client, busy_farm: Farm) -> None:
    everything = farm_client.get("/pending?format=json").json()["pending"]
    inbound = farm_client.get("/pending/mozilla-inbound?format=json").json()["pending"]
    assert list(inbound) == ["mozilla-inbound"]
    assert inbound["mozilla-inbound"] == everything["mozilla-inbound"]
    assert farm_client.get("/pending?branch=try&format=json").json()["pending"].keys() <= {"try"}
    running = farm_client.get("/running/try?format=json").json()["running"]
    assert set(running) <= {"try"}


@pytest.mark.parametrize("path", ["/pending/nowhere", "/running/nowhere", "/pending?branch=a%25"])
def test_unknown_branch_is_404(farm_client: httpx.Client, path: str) -> None:
    response = farm_client.get(path, headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.json()["status"] == "FAILED"


def test_one_query_per_view(farm_client: httpx.Client, busy_farm: Farm) -> None:
    # A parameter no other test sends keeps the response cache out of the count.
    paths = (
        "/pending?format=json&q=1",
        "/pending?q=1",
        "/pending/mozilla-inbound?format=json&q=1",
        "/running?format=json&q=1",
        "/running?q=1",
        "/running/mozilla-inbound?format=json&q=1",
    )
    for path in paths:
        with sent_statements(busy_farm.databases.schedulerdb) as statements:
            assert farm_client.get(path).status_code == 200
        assert len(statements) == 1, statements


def test_pages_list_what_waits_and_runs(farm_client: httpx.Client, busy_farm: Farm) -> None:
    page = farm_client.get("/pending")
    assert '<table class="sortable" id="pending">' in page.text
    assert page.text.count("<tr>") > 1
    running = farm_client.get("/running/mozilla-inbound")
    assert '<table class="sortable" id="running">' in running.text
    build = sorted(busy_farm.running.values(), key=lambda b: b.key)[0]
    assert f"{build.master.http_url}/builders/" in farm_client.get("/running").text


RECENT_KEYS = {
    "id", "buildname", "buildnumber", "starttime", "endtime", "result", "slavename", "master",
    "buildername",
}  # fmt: skip


def test_recent(farm_client: httpx.Client, busy_farm: Farm) -> None:
    newest = farm_client.get("/recent?format=json&numbuilds=40").json()
    assert len(newest) == 40
    assert [b["id"] for b in newest] == sorted((b["id"] for b in newest), reverse=True)
    assert all(set(b) == RECENT_KEYS for b in newest)
    assert any(b["endtime"] is None for b in newest), "running builds are listed too"
    more = farm_client.get("/recent?format=json&numbuilds=400").json()
    slave = next(b["slavename"] for b in more if b["endtime"] is not None)
    exact = farm_client.get(f"/recent/{slave}?format=json&greedy=false").json()
    assert exact and {b["slavename"] for b in exact} == {slave}
    assert all(b["result"] is not None for b in exact)
    pool = slave.rsplit("-", 1)[0]
    greedy = farm_client.get(f"/recent/{pool}?format=json&numbuilds=100").json()
    assert len({b["slavename"] for b in greedy}) > 1
    assert all(b["slavename"].startswith(pool) for b in greedy)
    assert farm_client.get("/recent/%25?format=json").json() == []


def test_legacy_revision(farm_client: httpx.Client, busy_farm: Farm) -> None:
    ((revision, count),) = rows(
        busy_farm.databases.schedulerdb,
        "SELECT ss.revision, COUNT(*) FROM buildrequests br JOIN buildsets bs "
        "ON bs.id = br.buildsetid JOIN sourcestamps ss ON ss.id = bs.sourcestampid "
        "LEFT JOIN builds b ON b.brid = br.id WHERE ss.branch = 'integration/mozilla-inbound' "
        "GROUP BY ss.revision ORDER BY COUNT(*) DESC LIMIT 1",
    )
    data = farm_client.get(f"/revision/mozilla-inbound/{revision[:12]}?format=json").json()
    assert set(data) == {"branch", "revision", "pending", "all"}
    assert data["revision"] == revision[:12] and data["branch"] == "mozilla-inbound"
    items = data["all"]["mozilla-inbound"][revision]
    assert len(items) == count
    assert set(items[0]) == {
        "id", "buildsetid", "buildername", "submitted_at", "claimed_at", "claimed_by_name",
        "start_time", "finish_time", "number", "results",
    }  # fmt: skip
    page = farm_client.get(f"/revision/mozilla-inbound/{revision}")
    assert page.status_code == 200 and 'id="revision"' in page.text


def test_pushes(farm_client: httpx.Client, busy_farm: Farm) -> None:
    counts = farm_client.get("/pushes?format=json&fromtime=0").json()
    authors = rows(
        busy_farm.databases.schedulerdb,
        "SELECT author, COUNT(*) FROM (SELECT DISTINCT ss.revision, ss.branch, c.author "
        "FROM sourcestamps ss JOIN sourcestamp_changes sc ON sc.sourcestampid = ss.id "
        "JOIN changes c ON c.changeid = sc.changeid) AS p GROUP BY author",
    )
    assert {k: v for k, v in counts.items() if k != "TOTAL"} == dict(authors)
    assert counts["TOTAL"] == sum(count for _a, count in authors)
    inbound = farm_client.get("/pushes/mozilla-inbound/0?format=json").json()
    assert 0 < inbound["TOTAL"] < counts["TOTAL"]
    none = farm_client.get("/pushes/mozilla-inbound/0/1?format=json").json()
    assert none == {"TOTAL": 0}


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/recent?numbuilds=0", 400),
        ("/recent?numbuilds=x", 400),
        ("/revision/mozilla-inbound/zz", 400),
        ("/revision/nowhere/0123456789ab", 404),
        ("/revision/mozilla-inbound/0123456789ab", 404),
        ("/pushes/mozilla-inbound/yesterday", 400),
        ("/pushes/mozilla-inbound/99999999999", 400),
        ("/pushes/mozilla-inbound/100/50", 400),
        ("/pushes?totime=-1", 400),
        ("/pushes/nowhere", 404),
    ],
)
def test_more_bad_input(farm_client: httpx.Client, path: str, status: int) -> None:
    response = farm_client.get(path, headers={"Accept": "application/json"})
    assert response.status_code == status, response.text
    assert response.json()["status"] == "FAILED"
