"""Pushes, end-to-end times, build runs and try-chooser use: JSON, CSV and HTML with charts."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import RedirectResponse, Response

from buildapi.db.queries.live import BranchFilter
from buildapi.db.queries.report_pushes import push_rows
from buildapi.errors import BadInput
from buildapi.reports.catalog import REPORT_BRANCH
from buildapi.reports.pushes import pushes_report
from buildapi.reports.requests import branch_namer
from buildapi.reports.runs import build_run, end_to_end, try_chooser
from buildapi.reports.window import Window
from buildapi.web.caching import cached
from buildapi.web.charts import chart, interval_labels
from buildapi.web.deps import AppState, State
from buildapi.web.negotiation import OutputFormat, TableFormat
from buildapi.web.params import checked_revision, known_branch
from buildapi.web.responses import csv_response
from buildapi.web.routes.reports import ReportWindow, render_report
from buildapi.web.urls import link

router = APIRouter()

BranchPath = Annotated[str, Path(description="a branch of the branches config")]
BranchesQuery = Annotated[
    str | None, Query(description="comma-separated branches of the branches config; empty: all")
]
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


def _branch_menu(state: AppState) -> list[str]:
    return list(state.layout.branches)


@router.get("/reports/pushes", summary="Pushes per branch and interval")
@cached(60)
def pushes(
    request: Request,
    fmt: TableFormat,
    state: State,
    window: ReportWindow,
    branches: BranchesQuery = None,
) -> Response:
    names = [name.strip() for name in (branches or "").split(",") if name.strip()]
    unknown = [name for name in names if name not in state.layout.branches]
    if unknown:
        known = ", ".join(state.layout.branches)
        raise BadInput(f"unknown branches {', '.join(unknown)}; branches are: {known}")
    filters = [known_branch(state, name) for name in names]
    with state.databases.schedulerdb.connect() as connection:
        data = pushes_report(
            push_rows(connection, window.starttime, window.endtime, filters),
            window=window,
            namer=branch_namer(state.layout),
            branches=names,
            zone=state.settings.zone,
        )
    if fmt == "csv":
        header = ["branch", "total", *map(str, window.interval_starts())]
        rows = [["Totals", data["total"], *data["intervals"]]]
        rows += [[name, e["total"], *e["intervals"]] for name, e in data["branch"].items()]
        return csv_response(header, rows)
    labels = interval_labels(state.settings.zone, window.interval_starts())
    per_branch = [{"label": n, "data": e["intervals"]} for n, e in data["branch"].items()]
    totals = [{"label": "Totals", "data": data["intervals"]}]
    charts = [
        chart("chart-intervals", "Pushes per interval", "pushes", labels, totals + per_branch),
        chart(
            "chart-branches",
            "Pushes per interval, stacked by branch",
            "pushes",
            labels,
            per_branch,
            kind="bar",
            stacked=True,
        ),
        chart(
            "chart-share",
            "Number of pushes by branch",
            "pushes",
            list(data["branch"]),
            [{"label": "Pushes", "data": [e["total"] for e in data["branch"].values()]}],
            kind="pie",
        ),
        chart(
            "chart-hourly",
            "Average number of pushes by hour of the day",
            "pushes",
            [f"{hour:02d}" for hour in range(24)],
            [{"label": "Average pushes per hour", "data": data["hourly"]}],
            kind="bar",
        ),
    ]
    return render_report(
        request,
        fmt,
        data,
        "reports/pushes.html",
        "Pushes",
        window=window,
        labels=labels,
        charts=charts,
    )


@router.get("/reports/endtoend", summary="End-to-end times of mozilla-central's build runs")
@cached(60)
def endtoend_default(
    request: Request, fmt: TableFormat, state: State, window: ReportWindow
) -> Response:
    return _endtoend(request, fmt, state, REPORT_BRANCH, window)


@router.get("/reports/endtoend/{branch}", summary="End-to-end times of a branch's build runs")
@cached(60)
def endtoend(
    request: Request, fmt: TableFormat, state: State, branch: BranchPath, window: ReportWindow
) -> Response:
    return _endtoend(request, fmt, state, branch, window)


def _run_rows(data: dict[str, Any], extra: tuple[str, ...] = ()) -> list[list[Any]]:
    return [
        [run[column] for column in (*RUN_COLUMNS, *extra)]
        + [" ".join(run["authors"]), " ".join(run["changes_revision"])]
        for run in data["build_runs"].values()
    ]


def _runs_by_push(data: dict[str, Any]) -> list[dict[str, Any]]:
    return sorted(data["build_runs"].values(), key=lambda run: run["lst_change_time"] or 0)


def _endtoend(request: Request, fmt: str, state: AppState, branch: str, window: Window) -> Response:
    chosen = known_branch(state, branch)
    with state.databases.schedulerdb.connect() as connection:
        data = end_to_end(connection, chosen, window, branch_namer(state.layout))
    if fmt == "csv":
        return csv_response([*RUN_COLUMNS, "authors", "changes_revision"], _run_rows(data))
    runs = _runs_by_push(data)
    charts = [
        chart(
            "chart-durations",
            "End-to-end time of each build run, by push time",
            "minutes",
            [run["revision"][:12] for run in runs],
            [{"label": "End to end", "data": [run["duration"] / 60 for run in runs]}],
            kind="bar",
        )
    ]
    return render_report(
        request,
        fmt,
        data,
        "reports/endtoend.html",
        f"End to end times: {branch}",
        window=window,
        runs=runs,
        branches=_branch_menu(state),
        base_path="/reports/endtoend/",
        current=branch,
        charts=charts,
    )


@router.get("/reports/revision", summary="Find a build run: the form, or a redirect to the run")
def revision_jump(
    request: Request,
    fmt: OutputFormat,
    state: State,
    branch: Annotated[str | None, Query(description="a branch of the branches config")] = None,
    revision: Annotated[str | None, Query(description="12 to 40 hexadecimal characters")] = None,
) -> Response:
    """Without arguments the jump box (HTML only); with both, a 302 to the run's page, so the
    box works without JavaScript."""
    if branch is None and revision is None and fmt == "html":
        return render_report(
            request,
            fmt,
            None,
            "reports/revision_jump.html",
            "Build run",
            branches=_branch_menu(state),
            current=REPORT_BRANCH,
        )
    if not branch or not revision:
        raise BadInput("branch and revision are both required: /reports/revision/{branch}/{rev}")
    known_branch(state, branch)
    target = f"/reports/revision/{quote(branch, safe='')}/{checked_revision(revision.strip())}"
    query = urlencode({"format": fmt}) if "format" in request.query_params else ""
    return RedirectResponse(link(request, target) + (f"?{query}" if query else ""), 302)


@router.get(
    "/reports/revision/{branch}/{revision}", summary="A build run: every request of a revision"
)
@cached(60)
def revision_report(
    request: Request, fmt: TableFormat, state: State, branch: BranchPath, revision: str
) -> Response:
    revision = checked_revision(revision)
    chosen = known_branch(state, branch)
    with state.databases.schedulerdb.connect() as connection:
        data = build_run(connection, chosen, revision, branch_namer(state.layout))
    if fmt == "csv":
        rows = [[entry[column] for column in REQUEST_COLUMNS] for entry in data["build_requests"]]
        return csv_response(REQUEST_COLUMNS, rows)
    return render_report(
        request,
        fmt,
        data,
        "reports/revision.html",
        f"Build run {data['revision'][:12]} on {branch}",
        branches=_branch_menu(state),
        current=branch,
    )


@router.get("/reports/trychooser", summary="Try syntax use on try's build runs")
@cached(60)
def trychooser_default(
    request: Request, fmt: TableFormat, state: State, window: ReportWindow
) -> Response:
    return _trychooser(request, fmt, state, "try", window)


@router.get("/reports/trychooser/{branch}", summary="Try syntax use on a branch's build runs")
@cached(60)
def trychooser(
    request: Request, fmt: TableFormat, state: State, branch: BranchPath, window: ReportWindow
) -> Response:
    return _trychooser(request, fmt, state, branch, window)


def _trychooser(
    request: Request, fmt: str, state: AppState, branch: str, window: Window
) -> Response:
    chosen: BranchFilter = known_branch(state, branch)
    with state.databases.schedulerdb.connect() as connection:
        data = try_chooser(connection, chosen, window, branch_namer(state.layout))
    if fmt == "csv":
        header = [*RUN_COLUMNS, "used_trychooser", "authors", "changes_revision"]
        return csv_response(header, _run_rows(data, ("used_trychooser",)))
    runs = len(data["build_runs"])
    authors_yes, authors_no = len(data["authors_used"]), len(data["authors_never_used"])
    used_runs = data["build_runs_used"]
    charts = [
        chart(
            "chart-authors",
            "Authors who used try syntax",
            "authors",
            ["Used", "Never used"],
            [{"label": "Authors", "data": [authors_yes, authors_no]}],
            kind="pie",
        ),
        chart(
            "chart-runs",
            "Build runs that used try syntax",
            "build runs",
            ["Used", "Not used"],
            [{"label": "Build runs", "data": [used_runs, runs - used_runs]}],
            kind="pie",
        ),
    ]
    return render_report(
        request,
        fmt,
        data,
        "reports/trychooser.html",
        f"Try chooser: {branch}",
        window=window,
        runs=_runs_by_push(data),
        branches=_branch_menu(state),
        base_path="/reports/trychooser/",
        current=branch,
        charts=charts,
    )
