"""One range for every time parameter: out of it is a 400 naming the parameter and the range,
never a 500; values just inside it are served."""

from __future__ import annotations

import httpx
import pytest

from buildapi.times import RANGE

# Path values for the report routes' path parameters; a new parameter needs one here.
PATH_VALUES = {"pool": "buildpool", "slave_id": "1", "name": "x", "branch": "try"}
JSON = {"Accept": "application/json"}

BAD_WINDOWS = [
    ("starttime=9999-12-30&endtime=9999-12-31", "starttime"),
    ("endtime=9999-12-31", "endtime"),
    ("starttime=253402300799", "starttime"),
    ("endtime=253402300799", "endtime"),
    ("starttime=0001-01-01", "starttime"),
    ("endtime=0001-01-01", "endtime"),
    ("starttime=2147483648", "starttime"),
    ("endtime=100", "endtime"),  # its default start, a day earlier, is before 1970
]
GOOD_WINDOWS = [
    "starttime=1970-01-02&endtime=1970-01-02",
    "starttime=2147400000&endtime=2147483647",
]


def report_paths(client: httpx.Client) -> list[str]:
    """Every route with a report window, from the app's own routes, path parameters filled in."""
    found = []
    for path, operations in client.get("/openapi.json").json()["paths"].items():
        names = {p["name"] for p in operations.get("get", {}).get("parameters", [])}
        if "starttime" in names:
            found.append(path.format(**PATH_VALUES))
    return found


@pytest.fixture
def reports(client: httpx.Client) -> list[str]:
    paths = report_paths(client)
    assert len(paths) >= 15, paths
    return paths


def assert_out_of_range(response: httpx.Response, name: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["status"] == "FAILED"
    assert body["msg"].startswith(f"{name} must be within {RANGE}") or body["msg"].startswith(
        f"{name} - 24 h"
    ), body["msg"]


@pytest.mark.parametrize(("query", "name"), BAD_WINDOWS)
@pytest.mark.parametrize("fmt", ["json", "html", "csv"])
def test_report_times_out_of_range_are_400(
    client: httpx.Client, reports: list[str], query: str, name: str, fmt: str
) -> None:
    for path in reports:
        response = client.get(f"{path}?{query}&format={fmt}", headers=JSON)
        if fmt == "json":
            assert_out_of_range(response, name)
        else:  # html, or csv where the report is no table: still a 400, never a 500
            assert response.status_code == 400, (path, response.text)


@pytest.mark.parametrize("query", GOOD_WINDOWS)
def test_report_times_just_inside_are_served(
    client: httpx.Client, reports: list[str], query: str
) -> None:
    for path in reports:
        response = client.get(f"{path}?{query}&format=json")
        # 404: no such slave or builder on the empty farm, said once the window was accepted
        assert response.status_code in (200, 404), (path, response.text)


@pytest.mark.parametrize("date", ["9999-12-31", "0001-01-01", "1969-12-31", "2038-01-19"])
@pytest.mark.parametrize("fmt", ["json", "html"])
def test_self_serve_day_out_of_range_is_400(client: httpx.Client, date: str, fmt: str) -> None:
    response = client.get(f"/self-serve/try?date={date}&format={fmt}", headers=JSON)
    assert response.status_code == 400
    if fmt == "json":
        assert response.json()["msg"] == f"date must be within {RANGE}, not {date!r}"


@pytest.mark.parametrize("date", ["1970-01-02", "2038-01-17"])
@pytest.mark.parametrize("fmt", ["json", "html"])
def test_self_serve_days_just_inside_are_served(client: httpx.Client, date: str, fmt: str) -> None:
    assert client.get(f"/self-serve/try?date={date}&format={fmt}").status_code == 200


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/pushes/try/0/9223372036854775808", "totime"),
        ("/pushes/try/0/2147483648", "totime"),
        ("/pushes/try/0/-1", "totime"),
        ("/pushes?totime=253402300799", "totime"),
        ("/pushes/try/253402300799", "fromtime"),
        ("/pushes?fromtime=2147483648", "fromtime"),
    ],
)
def test_push_times_out_of_range_are_400(client: httpx.Client, path: str, name: str) -> None:
    assert_out_of_range(client.get(path, headers=JSON), name)


@pytest.mark.parametrize("path", ["/pushes/try/0/2147483647", "/pushes?fromtime=0&totime=1"])
def test_push_times_just_inside_are_served(client: httpx.Client, path: str) -> None:
    assert client.get(path, headers=JSON).status_code == 200
