"""CSV and pages of the build-run reports: end to end, one build run, try chooser."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from buildapi.reports.charts import OTHER, SINGLE, chart, pie, series
from buildapi.reports.pages import Page, ReportPage, Site, Table
from buildapi.reports.window import Window

RUN_COLUMNS = (
    "revision",
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
)
REQUEST_COLUMNS = (
    "brid",
    "bid",
    "number",
    "buildername",
    "status_str",
    "results_str",
    "duration",
    "wait_time",
    "run_time",
    "when_timestamp",
    "submitted_at",
    "claimed_at",
    "start_time",
    "complete_at",
    "finish_time",
    "claimed_by_name",
    "revision",
    "buildsetid",
    "ssid",
)
TRY_COLOURS = {"Used": SINGLE, "Not used": OTHER, "Never used": OTHER}


@dataclass(frozen=True)
class RunsQuery:
    """A branch's build runs in a window (end to end, try chooser)."""

    branch: str
    window: Window


@dataclass(frozen=True)
class BuildRunQuery:
    branch: str
    revision: str


def _run_rows(data: dict[str, Any], extra: tuple[str, ...] = ()) -> list[list[Any]]:
    return [
        [run[column] for column in (*RUN_COLUMNS, *extra)]
        + [" ".join(run["authors"]), " ".join(run["changes_revision"])]
        for run in data["build_runs"].values()
    ]


def _runs_by_push(data: dict[str, Any]) -> list[dict[str, Any]]:
    return sorted(data["build_runs"].values(), key=lambda run: run["lst_change_time"] or 0)


def _branch_context(query: RunsQuery | BuildRunQuery, site: Site, base_path: str) -> dict:
    return {"branches": list(site.branches), "base_path": base_path, "current": query.branch}


def endtoend_table(data: dict[str, Any], query: RunsQuery) -> Table:
    return [*RUN_COLUMNS, "authors", "changes_revision"], _run_rows(data)


def endtoend_page(data: dict[str, Any], query: RunsQuery, site: Site) -> Page:
    """One point per run, by push time: hundreds of runs stay readable as points where bars
    would be hairlines. A run still going has no end-to-end time yet: a gap."""
    runs = _runs_by_push(data)
    minutes = [run["duration"] / 60 if run["is_complete"] == "yes" else None for run in runs]
    durations = chart(
        "chart-durations",
        "End-to-end time of each build run, by push time",
        "minutes",
        [run["revision"][:12] for run in runs],
        [series("End to end", minutes, SINGLE)],
    )
    context = {"window": query.window, "runs": runs, "charts": [durations]}
    context |= _branch_context(query, site, "/reports/endtoend/")
    return Page("reports/endtoend.html", f"End to end times: {query.branch}", context)


def revision_table(data: dict[str, Any], query: BuildRunQuery) -> Table:
    rows = [[entry[column] for column in REQUEST_COLUMNS] for entry in data["build_requests"]]
    return REQUEST_COLUMNS, rows


def revision_page(data: dict[str, Any], query: BuildRunQuery, site: Site) -> Page:
    title = f"Build run {data['revision'][:12]} on {query.branch}"
    return Page("reports/revision.html", title, _branch_context(query, site, "/reports/revision/"))


def trychooser_table(data: dict[str, Any], query: RunsQuery) -> Table:
    header = [*RUN_COLUMNS, "used_trychooser", "authors", "changes_revision"]
    return header, _run_rows(data, ("used_trychooser",))


def trychooser_page(data: dict[str, Any], query: RunsQuery, site: Site) -> Page:
    runs, used = len(data["build_runs"]), data["build_runs_used"]
    authors = [("Used", len(data["authors_used"])), ("Never used", len(data["authors_never_used"]))]
    charts = [
        pie(
            "chart-authors", "Authors who used try syntax", "authors", authors, colours=TRY_COLOURS
        ),
        pie(
            "chart-runs",
            "Build runs that used try syntax",
            "build runs",
            [("Used", used), ("Not used", runs - used)],
            colours=TRY_COLOURS,
        ),
    ]
    context = {"window": query.window, "runs": _runs_by_push(data), "charts": charts}
    context |= _branch_context(query, site, "/reports/trychooser/")
    return Page("reports/trychooser.html", f"Try chooser: {query.branch}", context)


ENDTOEND = ReportPage(endtoend_table, endtoend_page)
BUILD_RUN = ReportPage(revision_table, revision_page)
TRYCHOOSER = ReportPage(trychooser_table, trychooser_page)
