"""Reports over the busy farm: the menu, wait times in every format, and every refusal."""

from __future__ import annotations

import csv
import io

import httpx
import pytest

from tests.api.conftest import START, page_charts

WINDOW = {"starttime": int(START), "endtime": int(START + 3 * 3600)}
BLOCK_KEYS = {"total", "intervals"}
KEYS = {
    "pool",
    "masters",
    "starttime",
    "endtime",
    "int_size",
    "mpb",
    "maxb",
    "no_changes",
    "otherplatforms",
    "unknownbuilders",
    "pending",
    "total",
    "wt",
    "platforms",
}


def get(client: httpx.Client, path: str, **params: object) -> httpx.Response:
    return client.get(path, params={**WINDOW, **params})


def test_menu_lists_wait_times(farm_client: httpx.Client) -> None:
    page = farm_client.get("/reports")
    assert page.status_code == 200
    assert 'href="/reports/waittimes"' in page.text
    listed = farm_client.get("/reports", params={"format": "json"}).json()
    assert listed[0]["path"] == "/reports/waittimes"


@pytest.mark.parametrize("pool", ["buildpool", "trybuildpool", "testpool"])
def test_waittimes_json_shape(farm_client: httpx.Client, pool: str) -> None:
    response = get(farm_client, f"/reports/waittimes/{pool}", format="json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    data = response.json()
    assert set(data) == KEYS
    assert data["pool"] == pool and data["masters"]
    assert (data["starttime"], data["endtime"]) == (WINDOW["starttime"], WINDOW["endtime"])
    assert data["int_size"] == 3 * 3600 // 12
    assert (data["mpb"], data["maxb"]) == (15, 120)
    assert data["total"] > 0
    blocks = [int(key) for key in data["wt"]]
    assert blocks == list(range(0, max(blocks) + 1, 15))
    assert all(
        set(entry) == BLOCK_KEYS and len(entry["intervals"]) == 12 for entry in data["wt"].values()
    )
    assert sum(entry["total"] for entry in data["wt"].values()) == data["total"]
    assert sum(platform["total"] for platform in data["platforms"].values()) == data["total"]
    assert "other" not in data["platforms"]


def test_waittimes_default_pool_is_buildpool(farm_client: httpx.Client) -> None:
    plain = get(farm_client, "/reports/waittimes", format="json").json()
    assert plain == get(farm_client, "/reports/waittimes/buildpool", format="json").json()


def test_pools_do_not_overlap(farm_client: httpx.Client) -> None:
    totals = [
        get(farm_client, f"/reports/waittimes/{pool}", format="json").json()["platforms"]
        for pool in ("buildpool", "testpool")
    ]
    assert not set(totals[0]) & {"win7-ix", "xp-ix", "win8-ix", "yosemite"}
    assert "linux-mock" not in totals[1]


def test_waittimes_maxb_is_normalised_and_caps(farm_client: httpx.Client) -> None:
    data = get(farm_client, "/reports/waittimes/testpool", format="json", mpb=10, maxb=25).json()
    assert (data["mpb"], data["maxb"]) == (10, 20)
    assert max(int(key) for key in data["wt"]) <= 20


def test_waittimes_csv(farm_client: httpx.Client) -> None:
    response = get(farm_client, "/reports/waittimes/testpool", format="csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0][:3] == ["platform", "block", "total"] and len(rows[0]) == 3 + 12
    data = get(farm_client, "/reports/waittimes/testpool", format="json").json()
    overall = [row for row in rows[1:] if row[0] == "all"]
    assert [int(row[2]) for row in overall] == [entry["total"] for entry in data["wt"].values()]


def test_waittimes_page(farm_client: httpx.Client) -> None:
    page = get(farm_client, "/reports/waittimes/testpool")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "Total jobs:" in page.text and 'type="date"' in page.text
    assert "<caption>All platforms</caption>" in page.text
    data = get(farm_client, "/reports/waittimes/testpool", format="json").json()
    charts = page_charts(page.text)
    counts, shares = charts["chart-counts"], charts["chart-shares"]
    ordered = sorted(data["wt"].items(), key=lambda item: int(item[0]))
    assert [line["data"] for line in counts["series"]] == [e["intervals"] for _, e in ordered]
    assert counts["stacked"] and counts["palette"] == "ramp"
    for index, jobs in enumerate(zip(*(line["data"] for line in counts["series"]), strict=True)):
        column = [line["data"][index] for line in shares["series"]]
        if sum(jobs):
            assert sum(column) == pytest.approx(100, abs=0.1)
        else:  # an interval without jobs is a gap in the share chart, not 0 %
            assert column == [None] * len(column)
    platform_charts = [name for name in charts if name.startswith("chart-platform-")]
    assert len(platform_charts) == len(data["platforms"]) > 0


def test_date_parameters_cover_whole_days(farm_client: httpx.Client) -> None:
    data = farm_client.get(
        "/reports/waittimes",
        params={"starttime": "2026-05-28", "endtime": "2026-05-28", "format": "json"},
    ).json()
    assert data["endtime"] - data["starttime"] == 86400


@pytest.mark.parametrize(
    ("params", "status", "fragment"),
    [
        ({"starttime": START + 10, "endtime": START}, 400, "after endtime"),
        ({"starttime": "yesterday"}, 400, "epoch seconds"),
        ({"endtime": "2026-02-30"}, 400, "not a valid date"),
        ({"mpb": 0}, 400, "mpb"),
        ({"mpb": -5}, 400, "mpb"),
        ({"mpb": "x"}, 400, "mpb"),
        ({"maxb": -1}, 400, "maxb"),
        ({"int_size": "big"}, 400, "int_size"),
        ({"int_size": 1}, 400, "intervals"),
        ({"starttime": START - 40 * 86400, "endtime": START}, 400, "31 days"),
        ({"format": "xml"}, 400, "csv"),
    ],
)
def test_bad_input(
    farm_client: httpx.Client, params: dict[str, object], status: int, fragment: str
) -> None:
    response = farm_client.get(
        "/reports/waittimes",
        params={**WINDOW, "format": "json", **params},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == "FAILED" and fragment in body["msg"]


def test_unknown_pool_is_404(farm_client: httpx.Client) -> None:
    response = get(farm_client, "/reports/waittimes/swimmingpool", format="json")
    assert response.status_code == 404
    assert "swimmingpool" in response.json()["msg"]


@pytest.mark.parametrize(
    ("path", "params", "status", "fragment"),
    [
        ("/reports/waittimes", {"starttime": "yesterday"}, 400, "epoch seconds"),
        ("/reports/testruns", {"platform": "amiga"}, 400, "platform must be one of"),
        ("/reports/builder/no such builder", {}, 404, "not found"),
        ("/reports/slaves/999999", {}, 404, "Slave 999999 not found"),
    ],
)
def test_csv_errors_are_plain_text_with_their_status_and_message(
    farm_client: httpx.Client, path: str, params: dict, status: int, fragment: str
) -> None:
    response = get(farm_client, path, format="csv", **params)
    assert response.status_code == status
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    header, row = csv.reader(io.StringIO(response.text))
    assert header == ["status", "msg"] and row[0] == "FAILED" and fragment in row[1]
    assert "<html" not in response.text.lower()


def chart_values(chart: dict) -> list[float]:
    return [value for line in chart["series"] for value in line["data"] if value is not None]


@pytest.mark.parametrize(
    "path",
    [
        "/reports/waittimes/testpool",
        "/reports/pushes",
        "/reports/endtoend/mozilla-inbound",
        "/reports/trychooser",
        "/reports/slaves",
        "/reports/builders/mozilla-inbound",
        "/reports/testruns",
        "/reports/idlejobs",
    ],
)
def test_report_charts_are_readable_and_never_negative(
    farm_client: httpx.Client, path: str
) -> None:
    from buildapi.reports.charts import TOP_BARS, TOP_SLICES

    page = get(farm_client, path)
    assert page.status_code == 200
    for canvas, chart in page_charts(page.text).items():
        assert all(value >= 0 for value in chart_values(chart)), canvas
        assert all(line["colour"] for line in chart["series"]), canvas
        if chart["type"] == "pie":
            assert len(chart["labels"]) <= TOP_SLICES + 1, canvas
        if chart["type"] == "bar":  # hundreds of bars would be hairlines
            assert len(chart["labels"]) <= max(TOP_BARS, 24), canvas


def test_a_branch_has_one_colour_in_every_pushes_chart(farm_client: httpx.Client) -> None:
    charts = page_charts(get(farm_client, "/reports/pushes").text)
    lines = {
        canvas: {line["label"]: line["colour"] for line in charts[canvas]["series"]}
        for canvas in ("chart-intervals", "chart-branches")
    }
    (pie,) = charts["chart-share"]["series"]
    slices = dict(zip(charts["chart-share"]["labels"], pie["colours"], strict=True))
    assert lines["chart-intervals"].pop("Totals") == "totals"
    assert lines["chart-intervals"] == lines["chart-branches"]
    assert {name: slices[name] for name in lines["chart-branches"]} == lines["chart-branches"]
    assert len(set(slices.values())) == len(slices)


def test_try_chooser_page_shows_words_not_python_values(farm_client: httpx.Client) -> None:
    page = get(farm_client, "/reports/trychooser")
    assert page.status_code == 200
    assert "used it" in page.text or "did not" in page.text
    assert ": True" not in page.text and ": False" not in page.text
