"""The test-run report's CSV and page: the longest test runs, split into tests and the rest."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from buildapi.reports.charts import OTHER, SINGLE, TOP_BARS, chart, series
from buildapi.reports.pages import Page, ReportPage, Site, Table
from buildapi.reports.testruns import BUILD_TYPES, PLATFORMS
from buildapi.reports.window import Window


@dataclass(frozen=True)
class TestrunsQuery:
    window: Window
    category: str | None
    platform: str | None
    btype: str | None
    group: bool


def table(data: dict[str, Any], query: TestrunsQuery) -> Table:
    rows = [
        [name, entry["total"], entry["test"], entry["ratio"], entry["platform"]]
        for name, entry in data["builders"].items()
    ]
    return ("builder", "total", "test", "ratio", "platform"), rows


def page(data: dict[str, Any], query: TestrunsQuery, site: Site) -> Page:
    """Horizontal bars of the TOP_BARS longest runs (hundreds of builders would be hairlines);
    the table below lists them all."""
    longest = sorted(data["builders"].items(), key=lambda item: item[1]["total"], reverse=True)
    shown = longest[:TOP_BARS]
    title = "Average test run, minutes"
    if len(longest) > len(shown):
        title += f": the {len(shown)} longest of {len(longest)}"
    testruns = chart(
        "chart-testruns",
        title,
        "minutes",
        [name for name, _ in shown],
        [
            series("Tests", [entry["test"] / 60 for _, entry in shown], SINGLE),
            series(
                "Setup/teardown",
                [max(0, entry["total"] - entry["test"]) / 60 for _, entry in shown],
                OTHER,
            ),
        ],
        kind="bar",
        stacked=True,
        horizontal=True,
    )
    context = {
        "window": query.window,
        "charts": [testruns],
        "platforms": PLATFORMS,
        "build_types": BUILD_TYPES,
    }
    return Page("reports/testruns.html", "Test runs", context)


TESTRUNS = ReportPage(table, page)
