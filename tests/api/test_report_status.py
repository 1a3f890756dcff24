"""statusdb reports over the busy farm: keys and types, CSV, HTML, and every refusal."""

from __future__ import annotations

import csv
import io

import httpx
import pytest

from tests.api.conftest import START

WINDOW = {"starttime": int(START), "endtime": int(START + 3 * 3600)}
SLAVE_KEYS = {
    "slave_id",
    "name",
    "silo",
    "starttime",
    "endtime",
    "busy",
    "busy_last_int_size",
    "avg_build_duration",
    "total",
    "results_success",
    "results_warnings",
    "results_failure_all",
    "results_failure",
    "results_skipped",
    "results_exception",
    "results_retry",
    "results_no_result",
    "status_at_endtime",
    "int_size",
    "last_int_size",
}


def get(client: httpx.Client, path: str, **params: object) -> httpx.Response:
    return client.get(path, params={**WINDOW, **params})


def get_json(client: httpx.Client, path: str, **params: object) -> dict:
    response = get(client, path, format="json", **params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


def csv_rows(response: httpx.Response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.text)))


def test_slaves_json(farm_client: httpx.Client) -> None:
    data = get_json(farm_client, "/reports/slaves", last_int_size=3600)
    assert data["last_int_size"] == 3600
    assert data["total_slaves"] == len(data["slaves"]) > 0
    assert len(data["busy_slaves"]) == len(data["intervals"]) == len(data["busy_percent"])
    assert max(data["busy_slaves"]) <= data["total_slaves"]
    for slave in data["slaves"]:
        assert set(slave) == SLAVE_KEYS
        assert 0 <= slave["busy"] <= 100 and 0 <= slave["busy_last_int_size"] <= 100
        assert slave["total"] > 0 and isinstance(slave["avg_build_duration"], int)
    assert all(len(shares) == len(data["intervals"]) for shares in data["silos"].values())


def test_slaves_csv_and_html(farm_client: httpx.Client) -> None:
    rows = csv_rows(get(farm_client, "/reports/slaves", format="csv"))
    assert rows[0][:3] == ["slave_id", "name", "silo"] and len(rows) > 1
    page = get(farm_client, "/reports/slaves")
    assert page.status_code == 200 and "<h1>Slaves</h1>" in page.text
    assert 'id="chart-busy"' in page.text


def test_slave_details(farm_client: httpx.Client) -> None:
    first = get_json(farm_client, "/reports/slaves")["slaves"][0]
    data = get_json(farm_client, f"/reports/slaves/{first['slave_id']}")
    assert set(data) >= SLAVE_KEYS and data["name"] == first["name"]
    assert data["total"] == first["total"] == len(data["builds"])
    assert len(data["intervals"]) == 24
    assert all(item["busy"] + item["idle"] == pytest.approx(100) for item in data["intervals"])
    assert set(data["builds"][0]) == {
        "slave_id",
        "slave_name",
        "builder_id",
        "builder_name",
        "starttime",
        "endtime",
        "duration",
        "result",
    }
    rows = csv_rows(get(farm_client, f"/reports/slaves/{first['slave_id']}", format="csv"))
    assert len(rows) == 1 + data["total"]
    page = get(farm_client, f"/reports/slaves/{first['slave_id']}")
    assert page.status_code == 200 and first["name"] in page.text


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/reports/slaves/abc", {}, 400),
        ("/reports/slaves/-1", {}, 400),
        ("/reports/slaves/99999999", {}, 404),
        ("/reports/slaves", {"last_int_size": -5}, 400),
        ("/reports/slaves", {"last_int_size": 10**9}, 400),
        ("/reports/slaves", {"int_size": 1}, 400),
        ("/reports/slaves", {"format": "xml"}, 400),
    ],
)
def test_refusals(farm_client: httpx.Client, path: str, params: dict, status: int) -> None:
    response = get(farm_client, path, **{"format": "json", **params})
    assert response.status_code == status
    assert "FAILED" in response.text


def test_status_builders(farm_client: httpx.Client) -> None:
    data = get_json(farm_client, "/reports/status_builders")
    assert set(data) == {"starttime", "endtime", "builders"} and data["builders"]
    first = data["builders"][0]
    assert set(first) == {"name", "total", "avg_build_duration", "slaves"} | {
        key for key in SLAVE_KEYS if key.startswith("results_")
    }
    assert first["total"] >= first["slaves"] > 0
    rows = csv_rows(get(farm_client, "/reports/status_builders", format="csv"))
    assert rows[0][0] == "name" and len(rows) == 1 + len(data["builders"])
    assert get(farm_client, "/reports/status_builders").status_code == 200
    details = get_json(farm_client, f"/reports/status_builders/{first['name']}")
    assert details["name"] == first["name"] and details["total"] == first["total"]
    assert len(details["slaves"]) == first["slaves"]
    assert sum(slave["total"] for slave in details["slaves"]) == first["total"]
    page = get(farm_client, f"/reports/status_builders/{first['name']}")
    assert page.status_code == 200 and "Status builder:" in page.text
    assert csv_rows(get(farm_client, f"/reports/status_builders/{first['name']}", format="csv"))


def test_unknown_status_builder(farm_client: httpx.Client) -> None:
    response = get(farm_client, "/reports/status_builders/no such builder", format="json")
    assert response.status_code == 404


def test_testruns(farm_client: httpx.Client) -> None:
    data = get_json(farm_client, "/reports/testruns", platform="linux-mock", group="false")
    assert set(data) == {
        "starttime",
        "endtime",
        "total",
        "category",
        "platform",
        "btype",
        "group",
        "builders",
    }
    assert (data["category"], data["platform"], data["btype"], data["group"]) == (
        "ALL",
        "linux-mock",
        "ALL",
        False,
    )
    assert data["total"] == len(data["builders"])
    rows = csv_rows(get(farm_client, "/reports/testruns", format="csv"))
    assert rows[0] == ["builder", "total", "test", "ratio", "platform"]
    page = get(farm_client, "/reports/testruns", group="true")
    assert page.status_code == 200 and 'id="chart-testruns"' in page.text


def test_idlejobs(farm_client: httpx.Client) -> None:
    data = get_json(farm_client, "/reports/idlejobs")
    assert set(data) == {"starttime", "endtime", "int_size", "intervals", "total", "builders"}
    assert len(data["intervals"]) == 1 and data["int_size"] == 3 * 3600
    hourly = get_json(farm_client, "/reports/idlejobs", int_size=3600)
    assert len(hourly["intervals"]) == 3
    rows = csv_rows(get(farm_client, "/reports/idlejobs", format="csv", int_size=3600))
    assert rows[0][:2] == ["builder", "total compute time"] and len(rows[0]) == 5
    assert get(farm_client, "/reports/idlejobs").status_code == 200


@pytest.mark.parametrize(
    "params",
    [{"platform": "amiga"}, {"btype": "fast"}, {"group": "maybe"}, {"int_size": -1}],
)
def test_testruns_refusals(farm_client: httpx.Client, params: dict) -> None:
    response = get(farm_client, "/reports/testruns", format="json", **params)
    assert response.status_code == 400


NODE_KEYS = {
    "level",
    "platform",
    "build_type",
    "job_type",
    "buildername",
    "avg_run_time",
    "min_run_time",
    "max_run_time",
    "sum_run_time",
    "total_build_requests",
    "ptg_run_time",
    "results_success",
    "results_warnings",
    "results_failure",
}


@pytest.mark.parametrize("level", ["branch", "platform", "build_type", "job_type", "builder"])
def test_builders_levels(farm_client: httpx.Client, level: str) -> None:
    data = get_json(farm_client, "/reports/builders/mozilla-inbound", detail_level=level)
    assert data["detail_level"] == level and data["builders"]
    assert all(set(node) == NODE_KEYS and node["level"] == level for node in data["builders"])
    assert sum(node["sum_run_time"] for node in data["builders"]) == data["sum_run_time"]
    assert all(isinstance(node["ptg_run_time"], str) for node in data["builders"])


def test_builders_filters_csv_html_and_builder(farm_client: httpx.Client) -> None:
    data = get_json(
        farm_client, "/reports/builders/mozilla-inbound", platform="linux-mock", job_type="build"
    )
    assert {(n["platform"], n["job_type"]) for n in data["builders"]} == {("linux-mock", "build")}
    rows = csv_rows(get(farm_client, "/reports/builders/mozilla-inbound", format="csv"))
    assert rows[0][0] == "level" and len(rows) > 1
    assert get(farm_client, "/reports/builders").status_code == 200
    name = data["builders"][0]["buildername"]
    builder = get_json(farm_client, f"/reports/builder/{name}")
    assert builder["buildername"] == name
    assert builder["total_build_requests"] == data["builders"][0]["total_build_requests"]
    assert builder["build_requests"] and "run_time" in builder["build_requests"][0]
    assert csv_rows(get(farm_client, f"/reports/builder/{name}", format="csv"))[0][0] == "brid"
    assert get(farm_client, f"/reports/builder/{name}").status_code == 200


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/reports/builders/no-such-branch", {}, 404),
        ("/reports/builders/mozilla-inbound", {"detail_level": "slave"}, 400),
        ("/reports/builders", {"platform": "amiga"}, 400),
        ("/reports/builders", {"job_type": "lunch"}, 400),
        ("/reports/builder/no such builder", {}, 404),
    ],
)
def test_builders_refusals(farm_client: httpx.Client, path: str, params: dict, status: int) -> None:
    assert get(farm_client, path, format="json", **params).status_code == status
