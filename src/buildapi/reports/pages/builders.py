"""CSV and pages of the run-time reports from the request model: the builders tree, one builder."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from buildapi.reports.builders import DETAIL_LEVELS
from buildapi.reports.charts import SINGLE, chart, interval_labels, pie, series
from buildapi.reports.pages import Page, ReportPage, Site, Table
from buildapi.reports.window import Window

TREE_COLUMNS = (
    "level",
    "platform",
    "build_type",
    "job_type",
    "buildername",
    "sum_run_time",
    "ptg_run_time",
    "avg_run_time",
    "total_build_requests",
    "results_success",
    "results_warnings",
    "results_failure",
    "min_run_time",
    "max_run_time",
)
BUILDER_COLUMNS = (
    "brid",
    "bid",
    "status_str",
    "results_str",
    "revision",
    "branch",
    "submitted_at",
    "start_time",
    "complete_at",
    "wait_time",
    "run_time",
)
NODE_NAME = ("platform", "build_type", "job_type", "buildername")


@dataclass(frozen=True)
class BuildersQuery:
    """The tree's branch and window, its depth and its filters, checked."""

    branch: str
    window: Window
    level: str
    filters: dict[str, list[str]]


@dataclass(frozen=True)
class BuilderQuery:
    name: str
    window: Window


def tree_table(data: dict[str, Any], query: BuildersQuery) -> Table:
    return TREE_COLUMNS, ([node[key] for key in TREE_COLUMNS] for node in data["builders"])


def _node_name(node: dict[str, Any], branch: str) -> str:
    return " ".join(filter(None, (node[key] for key in NODE_NAME))) or branch


def tree_page(data: dict[str, Any], query: BuildersQuery, site: Site) -> Page:
    """A pie of the largest shares of run time; the table lists every node."""
    shares = [
        (_node_name(node, query.branch), float(node["ptg_run_time"])) for node in data["builders"]
    ]
    charts = [pie("chart-runtime", f"Share of run time per {query.level}", "%", shares)]
    context = {"window": query.window, "charts": charts, "levels": DETAIL_LEVELS}
    return Page("reports/builders.html", f"Average time per builder: {query.branch}", context)


def builder_table(data: dict[str, Any], query: BuilderQuery) -> Table:
    return BUILDER_COLUMNS, ([r[key] for key in BUILDER_COLUMNS] for r in data["build_requests"])


def builder_page(data: dict[str, Any], query: BuilderQuery, site: Site) -> Page:
    """Run time of each started request, oldest first; one still running has none yet: a gap,
    never a negative or zero time."""
    runs = [item for item in data["build_requests"] if item["start_time"]][::-1]
    minutes = [item["run_time"] / 60 if item["complete_at"] else None for item in runs]
    charts = [
        chart(
            "chart-runs",
            "Run time of each build request, by start time",
            "minutes",
            interval_labels(site.zone, [item["start_time"] for item in runs]),
            [series("Run time", minutes, SINGLE)],
        )
    ]
    context = {"window": query.window, "charts": charts}
    return Page("reports/builder.html", f"Builder: {query.name}", context)


BUILDERS = ReportPage(tree_table, tree_page)
BUILDER = ReportPage(builder_table, builder_page)
