"""The idle-jobs report's CSV and page: compute time per builder, and builds per interval."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from buildapi.reports.charts import SINGLE, TOP_BARS, chart, interval_labels, series
from buildapi.reports.pages import Page, ReportPage, Site, Table
from buildapi.reports.window import Window


@dataclass(frozen=True)
class IdleJobsQuery:
    window: Window


def table(data: dict[str, Any], query: IdleJobsQuery) -> Table:
    header = ["builder", "total compute time", *map(str, data["intervals"])]
    rows = [
        [name, entry["total compute time"], *entry["intervals"]]
        for name, entry in data["builders"].items()
    ]
    return header, rows


def page(data: dict[str, Any], query: IdleJobsQuery, site: Site) -> Page:
    """Compute time per builder always (the default window is one interval, where a line of
    builds per interval would be a dot per builder); builds per interval when there are
    several intervals."""
    labels = interval_labels(site.zone, data["intervals"])
    heaviest = sorted(
        data["builders"].items(), key=lambda item: item[1]["total compute time"], reverse=True
    )[:TOP_BARS]
    charts = [
        chart(
            "chart-idle",
            "Compute time per idle builder, hours",
            "hours",
            [name for name, _ in heaviest],
            [series("Compute time", [e["total compute time"] / 3600 for _, e in heaviest], SINGLE)],
            kind="bar",
            horizontal=True,
        )
    ]
    if len(labels) > 1:
        per_builder = [series(name, e["intervals"]) for name, e in data["builders"].items()]
        charts.append(
            chart("chart-idle-intervals", "Idle runs per interval", "builds", labels, per_builder)
        )
    columns = zip(*(entry["intervals"] for entry in data["builders"].values()), strict=True)
    context = {
        "window": query.window,
        "charts": charts,
        "labels": labels,
        "totals": [sum(column) for column in columns] or [0] * len(labels),
    }
    return Page("reports/idlejobs.html", "Idle jobs", context)


IDLE_JOBS = ReportPage(table, page)
