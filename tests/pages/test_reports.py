"""Report pages in a browser: no console errors, charts that draw, a date form that works."""

from __future__ import annotations

import pytest

from tests.pages.conftest import screenshot

PAINTED = """canvas => {
  const context = canvas.getContext("2d");
  const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
  return canvas.width > 0 && pixels.some(value => value !== 0);
}"""


@pytest.mark.parametrize(
    ("path", "heading", "canvases"),
    [
        ("/reports", "Reports", ()),
        ("/reports/waittimes", "Wait times: buildpool", ("chart-counts", "chart-shares")),
        ("/reports/revision", "Build run", ()),
        (
            "/reports/pushes",
            "Pushes",
            ("chart-intervals", "chart-branches", "chart-share", "chart-hourly"),
        ),
        (
            "/reports/endtoend/mozilla-inbound",
            "End to end times: mozilla-inbound",
            ("chart-durations",),
        ),
        ("/reports/trychooser", "Try chooser: try", ("chart-runs",)),
        ("/reports/slaves", "Slaves", ("chart-busy", "chart-silos")),
        (
            "/reports/builders/mozilla-inbound",
            "Average time per builder: mozilla-inbound",
            ("chart-runtime",),
        ),
        ("/reports/status_builders", "Status builders", ()),
        ("/reports/testruns", "Test runs", ("chart-testruns",)),
        ("/reports/idlejobs", "Idle jobs", ("chart-idle",)),
    ],
)
def test_report_page_loads_and_its_charts_draw(
    page, base_url: str, path: str, heading: str, canvases: tuple[str, ...]
) -> None:  # type: ignore[no-untyped-def]
    response = page.goto(base_url + path)
    assert response is not None and response.status == 200
    assert page.locator("h1").inner_text() == heading
    for canvas in canvases:
        assert page.locator(f"#{canvas}").evaluate(PAINTED), f"{canvas} is blank"
    screenshot(page, path.strip("/").replace("/", "-"))
    assert page.console_errors == []


@pytest.mark.parametrize("pool", ["buildpool", "testpool"])
def test_waittimes_charts_draw(page, base_url: str, pool: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base_url}/reports/waittimes/{pool}")
    canvases = page.locator("#report-charts canvas")
    assert canvases.count() >= 3, "overall counts, shares and at least one platform"
    for index in range(canvases.count()):
        assert canvases.nth(index).evaluate(PAINTED), f"chart {index} is blank"
    screenshot(page, f"reports-waittimes-{pool}")
    assert page.console_errors == []


def test_date_form_reloads_with_the_chosen_day(page, base_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base_url}/reports/waittimes/testpool?mpb=30")
    start = page.locator("form.window input[name=starttime]").input_value()
    page.locator("form.window button").click()
    page.wait_for_load_state()
    assert f"starttime={start}" in page.url and "mpb=30" in page.url
    assert page.locator("h1").inner_text() == "Wait times: testpool"
    assert page.console_errors == []


def test_build_run_page_and_jump_box(page, base_url: str) -> None:  # type: ignore[no-untyped-def]
    runs = page.request.get(f"{base_url}/reports/endtoend/mozilla-inbound?format=json").json()
    revision = next(iter(runs["build_runs"]))
    page.goto(f"{base_url}/reports/revision/mozilla-inbound/{revision[:12]}")
    assert page.locator("h1").inner_text() == f"Build run {revision[:12]} on mozilla-inbound"
    assert page.locator("table.requests tbody tr").count() > 0
    screenshot(page, "reports-revision")
    other = list(runs["build_runs"])[-1]
    page.locator("form.jump input[name=revision]").fill(other)
    page.locator("form.jump input[name=revision]").press("Enter")
    page.wait_for_url(f"**/reports/revision/mozilla-inbound/{other}")
    assert page.locator("h1").inner_text() == f"Build run {other[:12]} on mozilla-inbound"
    assert page.console_errors == []


def test_slave_and_status_builder_pages(page, base_url: str) -> None:  # type: ignore[no-untyped-def]
    slaves = page.request.get(f"{base_url}/reports/slaves?format=json").json()["slaves"]
    page.goto(f"{base_url}/reports/slaves")
    page.locator("table.slaves tbody a").first.click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().startswith("Slave ")
    for canvas in ("chart-busy", "chart-results"):
        assert page.locator(f"#{canvas}").evaluate(PAINTED), f"{canvas} is blank"
    screenshot(page, "reports-slave")
    assert slaves and page.console_errors == []
    page.locator("table.builds tbody a").first.click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().startswith("Status builder: ")
    assert page.locator("table.status-builder tbody tr").count() > 0
    screenshot(page, "reports-status-builder")
    assert page.console_errors == []


def test_builder_page_chart(page, base_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base_url}/reports/builders/mozilla-inbound")
    page.locator("table.builders tbody a").first.click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().startswith("Builder: ")
    assert page.locator("#chart-runs").evaluate(PAINTED), "run-time chart is blank"
    screenshot(page, "reports-builder")
    assert page.console_errors == []


WIDTH = 1280
LAYOUT = """() => {
  const charts = document.querySelector("#report-charts");
  const tables = [...document.querySelectorAll("main table")];
  return {
    width: document.documentElement.scrollWidth,
    chartsFirst: !charts || tables.every(
      table => charts.compareDocumentPosition(table) & Node.DOCUMENT_POSITION_FOLLOWING),
    charts: !!charts,
  };
}"""


def report_paths(page, base_url: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Every report page, those of one slave, builder and build run too."""

    def first(path: str, pick) -> str:  # type: ignore[no-untyped-def]
        return pick(page.request.get(f"{base_url}{path}?format=json").json())

    slave = first("/reports/slaves", lambda d: d["slaves"][0]["slave_id"])
    builder = first("/reports/builders/mozilla-inbound", lambda d: d["builders"][0]["buildername"])
    status = first("/reports/status_builders", lambda d: d["builders"][0]["name"])
    run = first("/reports/endtoend/mozilla-inbound", lambda d: next(iter(d["build_runs"])))
    return [
        "/reports/waittimes",
        "/reports/waittimes/testpool",
        "/reports/pushes",
        "/reports/endtoend/mozilla-inbound",
        "/reports/trychooser",
        "/reports/slaves",
        f"/reports/slaves/{slave}",
        "/reports/builders/mozilla-inbound",
        f"/reports/builder/{builder}",
        "/reports/status_builders",
        f"/reports/status_builders/{status}",
        "/reports/testruns",
        "/reports/idlejobs",
        "/reports/idlejobs?int_size=3600",
        f"/reports/revision/mozilla-inbound/{run}",
    ]


def test_every_report_page_fits_1280_pixels_with_charts_above_its_tables(
    page, base_url: str
) -> None:  # type: ignore[no-untyped-def]
    page.set_viewport_size({"width": WIDTH, "height": 900})
    for index, path in enumerate(report_paths(page, base_url)):
        assert page.goto(base_url + path).status == 200, path
        layout = page.evaluate(LAYOUT)
        assert layout["width"] <= WIDTH, f"{path} is {layout['width']} px wide"
        assert layout["chartsFirst"], f"{path} has a table above its charts"
        screenshot(page, f"reports-1280-{index:02d}")
        assert page.console_errors == [], path


BRANCH_COLOURS = """() => {
  const colours = {};
  for (const canvas of document.querySelectorAll("#report-charts canvas")) {
    const chart = Chart.getChart(canvas);
    chart.data.datasets.forEach(set => {
      if (chart.config.type === "pie") {
        chart.data.labels.forEach((label, i) =>
          (colours[label] ||= {})[canvas.id] = set.backgroundColor[i]);
      } else {
        (colours[set.label] ||= {})[canvas.id] = set.borderColor;
      }
    });
  }
  return colours;
}"""


def test_a_branch_has_the_same_colour_in_charts_side_by_side(page, base_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base_url}/reports/pushes")
    colours = page.evaluate(BRANCH_COLOURS)
    branches = [name for name, seen in colours.items() if "chart-branches" in seen]
    assert len(branches) >= 2
    for name in branches:
        seen = colours[name]
        assert len(set(seen.values())) == 1 and len(seen) == 3, (name, seen)
    assert colours["Totals"]["chart-intervals"] not in {
        colours[n]["chart-branches"] for n in branches
    }
    assert page.console_errors == []
