"""CSV and pages of the statusdb reports on slaves and builders: how busy, how builds ended."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from buildapi.reports.charts import OTHER, SINGLE, chart, interval_labels, result_colour, series
from buildapi.reports.charts import totals as totals_series
from buildapi.reports.classify import SILOS
from buildapi.reports.pages import Page, ReportPage, Site, Table
from buildapi.reports.slaves import OTHER_SILO, RESULT_KEYS
from buildapi.reports.window import Window
from buildapi.vocabulary import Result

SLAVE_COLUMNS = (
    "slave_id",
    "name",
    "silo",
    "busy",
    "busy_last_int_size",
    "avg_build_duration",
    "total",
    *RESULT_KEYS,
    "status_at_endtime",
)
BUILD_COLUMNS = ("builder_id", "builder_name", "result", "duration", "starttime", "endtime")
BUILDER_COLUMNS = ("name", "total", "avg_build_duration", "slaves", *RESULT_KEYS)
BUILDER_SLAVE_COLUMNS = ("slave_id", "name", "silo", "total", "avg_build_duration", *RESULT_KEYS)
SILO_ORDER = (*SILOS, OTHER_SILO)
# The slave page's chart of builds by result, and the busy/idle chart.
CHARTED_RESULTS = (Result.SUCCESS, Result.WARNINGS, Result.FAILURE)
BUSY_COLOURS = {"busy": "running", "idle": OTHER}


@dataclass(frozen=True)
class SlavesQuery:
    window: Window
    last_int_size: int


@dataclass(frozen=True)
class SlaveQuery:
    slave_id: int
    window: Window
    last_int_size: int


@dataclass(frozen=True)
class StatusBuildersQuery:
    window: Window


@dataclass(frozen=True)
class StatusBuilderQuery:
    name: str
    window: Window


def _rows(items: list[dict[str, Any]], columns: tuple[str, ...]) -> Table:
    return columns, ([item[key] for key in columns] for item in items)


def slaves_table(data: dict[str, Any], query: SlavesQuery) -> Table:
    return _rows(data["slaves"], SLAVE_COLUMNS)


def slaves_page(data: dict[str, Any], query: SlavesQuery, site: Site) -> Page:
    """Busy slaves over the window, and each silo's busy share beside the farm's (dashed)."""
    labels = interval_labels(site.zone, data["intervals"])
    silos = [series(name, shares, order=SILO_ORDER) for name, shares in data["silos"].items()]
    charts = [
        chart(
            "chart-busy",
            "Busy slaves per interval",
            "slaves",
            labels,
            [series("# Busy slaves", data["busy_slaves"], SINGLE)],
        ),
        chart(
            "chart-silos",
            "Busy share per silo",
            "% busy",
            labels,
            [totals_series(data["busy_percent"]), *silos],
        ),
    ]
    return Page("reports/slaves.html", "Slaves", {"window": query.window, "charts": charts})


def slave_table(data: dict[str, Any], query: SlaveQuery) -> Table:
    return _rows(data["builds"], BUILD_COLUMNS)


def slave_page(data: dict[str, Any], query: SlaveQuery, site: Site) -> Page:
    intervals = data["intervals"]
    labels = interval_labels(site.zone, [item["start"] for item in intervals])

    def column(key: str, colour: str) -> dict[str, Any]:
        return series(key.capitalize(), [item[key] for item in intervals], colour)

    charts = [
        chart(
            "chart-busy",
            "Busy and idle time per interval",
            "%",
            labels,
            [column(key, colour) for key, colour in BUSY_COLOURS.items()],
            stacked=True,
            kind="bar",
        ),
        chart(
            "chart-results",
            "Builds started per interval, by result",
            "builds",
            labels,
            [column(r.legacy_name, result_colour(r)) for r in CHARTED_RESULTS],
            stacked=True,
            kind="bar",
        ),
    ]
    title = f"Slave {data['slave_id']}: {data['name']}"
    return Page("reports/slave.html", title, {"window": query.window, "charts": charts})


def builders_table(data: dict[str, Any], query: StatusBuildersQuery) -> Table:
    return _rows(data["builders"], BUILDER_COLUMNS)


def builders_page(data: dict[str, Any], query: StatusBuildersQuery, site: Site) -> Page:
    return Page("reports/status_builders.html", "Status builders", {"window": query.window})


def builder_table(data: dict[str, Any], query: StatusBuilderQuery) -> Table:
    return _rows(data["slaves"], BUILDER_SLAVE_COLUMNS)


def builder_page(data: dict[str, Any], query: StatusBuilderQuery, site: Site) -> Page:
    title = f"Status builder: {query.name}"
    return Page("reports/status_builder.html", title, {"window": query.window})


SLAVES = ReportPage(slaves_table, slaves_page)
SLAVE = ReportPage(slave_table, slave_page)
STATUS_BUILDERS = ReportPage(builders_table, builders_page)
STATUS_BUILDER = ReportPage(builder_table, builder_page)
