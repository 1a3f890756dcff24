"""Pushes, end-to-end, build-run and try-chooser reports over the busy farm, and every refusal."""

from __future__ import annotations

import csv
import io

import httpx
import pytest

from tests.api.conftest import START, page_charts

WINDOW = {"starttime": int(START), "endtime": int(START + 3 * 3600)}
RUN_KEYS = {
    "revision",
    "changes_revision",
    "results",
    "results_str",
    "is_complete",
    "total_build_requests",
    "unique_total_build_requests",
    "duration",
    "lst_change_time",
    "gst_finish_time",
    "complete",
    "running",
    "pending",
    "cancelled",
    "interrupted",
    "misc",
    "rebuilds",
    "forcebuilds",
    "builds",
    "unittests",
    "talos",
    "authors",
}
TOTAL_KEYS = {
    "starttime",
    "endtime",
    "branch_name",
    "total_build_requests",
    "unique_total_build_requests",
    "total_build_runs",
    "avg_duration",
    "build_runs",
}


def get(client: httpx.Client, path: str, **params: object) -> httpx.Response:
    return client.get(path, params={**WINDOW, **params})


def json_of(client: httpx.Client, path: str, **params: object) -> dict:
    response = get(client, path, format="json", **params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


def test_menu_lists_the_reports(farm_client: httpx.Client) -> None:
    paths = {entry["path"] for entry in farm_client.get("/reports?format=json").json()}
    assert {"/reports/pushes", "/reports/endtoend", "/reports/trychooser"} <= paths


def test_pushes_json(farm_client: httpx.Client) -> None:
    data = json_of(farm_client, "/reports/pushes")
    assert {"starttime", "endtime", "int_size", "total", "intervals", "branch", "hourly"} <= set(
        data
    )
    assert data["total"] > 0 and len(data["intervals"]) == 12
    assert sum(data["intervals"]) == data["total"]
    assert sum(entry["total"] for entry in data["branch"].values()) == data["total"]
    assert {"mozilla-inbound", "try"} <= set(data["branch"])
    assert len(data["hourly"]) == 24


def test_pushes_branch_list_keeps_empty_branches(farm_client: httpx.Client) -> None:
    data = json_of(farm_client, "/reports/pushes", branches="try,ash")
    assert set(data["branch"]) == {"try", "ash"}
    assert data["total"] == data["branch"]["try"]["total"] + data["branch"]["ash"]["total"]


def test_pushes_csv_and_page(farm_client: httpx.Client) -> None:
    response = get(farm_client, "/reports/pushes", format="csv")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0][:2] == ["branch", "total"] and rows[1][0] == "Totals"
    page = get(farm_client, "/reports/pushes")
    assert page.status_code == 200 and "Total pushes:" in page.text
    data = get(farm_client, "/reports/pushes", format="json").json()
    charts = page_charts(page.text)
    assert set(charts) == {"chart-intervals", "chart-branches", "chart-share", "chart-hourly"}
    branches = charts["chart-branches"]
    assert branches["stacked"] and branches["type"] == "bar"
    assert {line["label"]: line["data"] for line in branches["series"]} == {
        name: entry["intervals"] for name, entry in data["branch"].items()
    }
    (pie,) = charts["chart-share"]["series"]
    assert dict(zip(charts["chart-share"]["labels"], pie["data"], strict=True)) == {
        name: entry["total"] for name, entry in data["branch"].items()
    }


@pytest.mark.parametrize("path", ["/reports/endtoend", "/reports/endtoend/mozilla-inbound"])
def test_endtoend_json(farm_client: httpx.Client, path: str) -> None:
    data = json_of(farm_client, path)
    assert TOTAL_KEYS | {"pending_changes"} <= set(data)
    assert data["branch_name"] == path.rsplit("/", 1)[-1].replace("endtoend", "mozilla-central")
    assert data["total_build_runs"] == len(data["build_runs"]) > 0
    for key, run in data["build_runs"].items():
        assert set(run) >= RUN_KEYS and run["revision"] == key and len(key) == 40
        assert run["is_complete"] in ("yes", "no") and isinstance(run["duration"], int)
    assert data["unique_total_build_requests"] <= data["total_build_requests"]


def test_endtoend_csv_and_page(farm_client: httpx.Client) -> None:
    data = json_of(farm_client, "/reports/endtoend/mozilla-inbound")
    rows = list(
        csv.reader(
            io.StringIO(get(farm_client, "/reports/endtoend/mozilla-inbound", format="csv").text)
        )
    )
    assert rows[0][0] == "revision" and len(rows) == 1 + data["total_build_runs"]
    page = get(farm_client, "/reports/endtoend/mozilla-inbound")
    assert page.status_code == 200 and "Average build run duration" in page.text
    assert 'id="chart-durations"' in page.text and "/reports/revision/mozilla-inbound/" in page.text


def test_revision_report(farm_client: httpx.Client) -> None:
    runs = json_of(farm_client, "/reports/endtoend/mozilla-inbound")["build_runs"]
    revision, summary = next(iter(runs.items()))
    data = farm_client.get(f"/reports/revision/mozilla-inbound/{revision[:12]}?format=json").json()
    assert RUN_KEYS | {"build_requests", "branch_name"} <= set(data)
    assert data["revision"] == revision
    assert len(data["build_requests"]) >= summary["total_build_requests"]
    request = data["build_requests"][0]
    assert {"brid", "bid", "changeid", "status", "status_str", "results_str"} <= set(request)
    assert isinstance(request["changeid"], list)
    full = farm_client.get(f"/reports/revision/mozilla-inbound/{revision}?format=json").json()
    assert full == data
    rows = list(
        csv.reader(
            io.StringIO(
                farm_client.get(f"/reports/revision/mozilla-inbound/{revision}?format=csv").text
            )
        )
    )
    assert rows[0][0] == "brid" and len(rows) == 1 + len(data["build_requests"])
    page = farm_client.get(f"/reports/revision/mozilla-inbound/{revision}")
    assert page.status_code == 200 and "Build requests" in page.text


@pytest.mark.parametrize("path", ["/reports/trychooser", "/reports/trychooser/mozilla-inbound"])
def test_trychooser(farm_client: httpx.Client, path: str) -> None:
    data = json_of(farm_client, path)
    assert TOTAL_KEYS | {"authors_used", "authors_never_used", "build_runs_used"} <= set(data)
    for run in data["build_runs"].values():
        assert isinstance(run["used_trychooser"], bool)
        assert all(isinstance(flag, bool) for flag in run["uses_try_chooser"].values())
    if path.endswith("trychooser"):
        assert data["branch_name"] == "try" and data["build_runs_used"] > 0
    else:
        assert data["build_runs_used"] == 0
    response = get(farm_client, path, format="csv")
    assert response.headers["content-type"].startswith("text/csv")
    page = get(farm_client, path)
    assert page.status_code == 200 and 'id="chart-authors"' in page.text


WINDOWED = ["/reports/pushes", "/reports/endtoend/try", "/reports/trychooser/try"]


@pytest.mark.parametrize("path", WINDOWED)
@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"starttime": START + 10, "endtime": START}, "after endtime"),
        ({"starttime": "yesterday"}, "epoch seconds"),
        ({"starttime": START - 40 * 86400, "endtime": START}, "31 days"),
        ({"format": "xml"}, "csv"),
    ],
)
def test_bad_window(
    farm_client: httpx.Client, path: str, params: dict[str, object], fragment: str
) -> None:
    response = farm_client.get(
        path,
        params={**WINDOW, "format": "json", **params},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["status"] == "FAILED" and fragment in body["msg"]


def test_revision_jump_box(farm_client: httpx.Client) -> None:
    page = farm_client.get("/reports/revision")
    assert page.status_code == 200 and '<form class="jump"' in page.text
    assert (
        'action="/reports/revision"' in page.text
        and "<script" not in page.text.split("</h1>")[1].split("</main>")[0]
    )
    revision = next(iter(json_of(farm_client, "/reports/endtoend/mozilla-inbound")["build_runs"]))
    jump = farm_client.get(
        "/reports/revision",
        params={"branch": "mozilla-inbound", "revision": f" {revision.upper()} "},
    )
    assert jump.status_code == 302
    assert jump.headers["location"] == f"/reports/revision/mozilla-inbound/{revision}"
    as_json = farm_client.get(
        "/reports/revision",
        params={"branch": "mozilla-inbound", "revision": revision[:12], "format": "json"},
    )
    target = f"/reports/revision/mozilla-inbound/{revision[:12]}?format=json"
    assert as_json.status_code == 302 and as_json.headers["location"] == target
    assert farm_client.get(target).json()["revision"] == revision


@pytest.mark.parametrize(
    ("path", "status", "fragment"),
    [
        ("/reports/revision?format=json", 400, "both required"),
        ("/reports/revision?branch=try", 400, "both required"),
        ("/reports/revision?revision=0123456789ab", 400, "both required"),
        ("/reports/revision?branch=try&revision=0123", 400, "12 to 40"),
        ("/reports/revision?branch=nowhere&revision=0123456789ab", 404, "nowhere"),
        ("/reports/pushes?branches=try,nowhere", 400, "nowhere"),
        ("/reports/pushes?branches=try%25", 400, "try%"),
        ("/reports/endtoend/nowhere", 404, "nowhere"),
        ("/reports/trychooser/nowhere", 404, "nowhere"),
        ("/reports/revision/nowhere/0123456789ab", 404, "nowhere"),
        ("/reports/revision/try/0123456789ab", 404, "no such revision"),
        ("/reports/revision/try/0123456789a", 400, "12 to 40"),
        ("/reports/revision/try/0123456789xyz", 400, "12 to 40"),
        ("/reports/revision/try/" + "0" * 41, 400, "12 to 40"),
    ],
)
def test_refusals(farm_client: httpx.Client, path: str, status: int, fragment: str) -> None:
    response = farm_client.get(path, headers={"Accept": "application/json"})
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == "FAILED" and fragment in body["msg"]
