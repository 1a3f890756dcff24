"""The pushes report's CSV and page: pushes per interval and branch, per hour of the day."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from buildapi.reports.charts import SINGLE, chart, interval_labels, pie, series, totals
from buildapi.reports.pages import Page, ReportPage, Site, Table
from buildapi.reports.window import Window


@dataclass(frozen=True)
class PushesQuery:
    window: Window
    branches: tuple[str, ...]


def table(data: dict[str, Any], query: PushesQuery) -> Table:
    header = ["branch", "total", *map(str, query.window.interval_starts())]
    rows = [["Totals", data["total"], *data["intervals"]]]
    rows += [[name, e["total"], *e["intervals"]] for name, e in data["branch"].items()]
    return header, rows


def page(data: dict[str, Any], query: PushesQuery, site: Site) -> Page:
    labels = interval_labels(site.zone, query.window.interval_starts())
    per_branch = [
        series(name, entry["intervals"], order=site.branches)
        for name, entry in data["branch"].items()
    ]
    charts = [
        chart(
            "chart-intervals",
            "Pushes per interval",
            "pushes",
            labels,
            [totals(data["intervals"]), *per_branch],
        ),
        chart(
            "chart-branches",
            "Pushes per interval, stacked by branch",
            "pushes",
            labels,
            per_branch,
            kind="bar",
            stacked=True,
        ),
        pie(
            "chart-share",
            "Number of pushes by branch",
            "pushes",
            [(name, entry["total"]) for name, entry in data["branch"].items()],
            order=site.branches,
        ),
        chart(
            "chart-hourly",
            "Average number of pushes by hour of the day",
            "pushes",
            [f"{hour:02d}" for hour in range(24)],
            [series("Average pushes per hour", data["hourly"], SINGLE)],
            kind="bar",
        ),
    ]
    context = {"window": query.window, "labels": labels, "charts": charts}
    return Page("reports/pushes.html", "Pushes", context)


PUSHES = ReportPage(table, page)
