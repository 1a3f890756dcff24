"""Reports read from statusdb: slaves, status builders, test runs and idle jobs."""

from __future__ import annotations

import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import Response

from buildapi.db.queries import report_status as queries
from buildapi.db.queries.report_requests import Scope, builder_requested, request_rows
from buildapi.errors import BadInput, NotFound
from buildapi.reports.builders import (
    DETAIL_LEVELS,
    builder_report,
    builder_tree,
    checked_detail_level,
    checked_filter,
)
from buildapi.reports.idlejobs import idle_jobs
from buildapi.reports.requests import branch_namer, fold
from buildapi.reports.slaves import slave_details, slaves_report
from buildapi.reports.status_builders import status_builder, status_builders
from buildapi.reports.testruns import (
    BUILD_TYPES,
    PLATFORMS,
    checked_choice,
    checked_group,
    testrun_report,
)
from buildapi.reports.window import Window
from buildapi.web.caching import cached
from buildapi.web.deps import AppState, State
from buildapi.web.negotiation import TableFormat
from buildapi.web.params import known_branch
from buildapi.web.responses import csv_response
from buildapi.web.routes.reports import ReportWindow, render_report, window_dependency

router = APIRouter()

# A day of slave activity in 3-minute steps; a slave's own page in hours.
SLAVES_INTERVALS = 480
SLAVE_INTERVALS = 24
LAST_INTERVAL_SHARE = 24
MAX_ID = 2**31 - 1  # the id columns are 32-bit on MySQL and PostgreSQL

LastIntSize = Annotated[
    int | None,
    Query(ge=0, description="seconds at the end of the window reported apart; default window/24"),
]
SlavesWindow = Annotated[Window, Depends(window_dependency(SLAVES_INTERVALS))]
SlaveWindow = Annotated[Window, Depends(window_dependency(SLAVE_INTERVALS))]
# Idle jobs: one interval unless int_size asks for more.
IdleWindow = Annotated[Window, Depends(window_dependency(1))]


def _last_int_size(window: Window, last_int_size: int | None) -> int:
    span = window.endtime - window.starttime
    size = last_int_size or int(span // LAST_INTERVAL_SHARE)
    if size > span:
        raise BadInput("last_int_size must not be longer than the window")
    return size


def _labels(state: AppState, starts: list[int]) -> list[str]:
    zone = state.settings.zone
    return [datetime.datetime.fromtimestamp(s, zone).strftime("%m/%d %H:%M") for s in starts]


def chart(
    canvas: str,
    title: str,
    unit: str,
    labels: list[str],
    series: list[dict[str, Any]],
    *,
    kind: str = "line",
    stacked: bool = False,
) -> dict[str, Any]:
    """One chart for report_charts.js: a canvas id, axis labels and named series."""
    return {
        "canvas": canvas,
        "title": title,
        "unit": unit,
        "type": kind,
        "stacked": stacked,
        "labels": labels,
        "series": series,
    }


SLAVE_COLUMNS = (
    "slave_id",
    "name",
    "silo",
    "busy",
    "busy_last_int_size",
    "avg_build_duration",
    "total",
    "results_success",
    "results_warnings",
    "results_failure_all",
    "results_failure",
    "results_skipped",
    "results_exception",
    "results_retry",
    "results_no_result",
    "status_at_endtime",
)


@router.get("/reports/slaves", summary="How busy each slave was, and busy slaves over time")
@cached(60)
def slaves(
    request: Request,
    fmt: TableFormat,
    state: State,
    window: SlavesWindow,
    last_int_size: LastIntSize = None,
) -> Response:
    last = _last_int_size(window, last_int_size)
    with state.databases.statusdb.connect() as connection:
        rows = queries.slave_builds(connection, window.starttime, window.endtime)
        data = slaves_report(rows, window, last)
    if fmt == "csv":
        return csv_response(
            SLAVE_COLUMNS, ([slave[key] for key in SLAVE_COLUMNS] for slave in data["slaves"])
        )
    labels = _labels(state, data["intervals"])
    silos = [{"label": name, "data": shares} for name, shares in data["silos"].items()]
    charts = [
        chart(
            "chart-busy",
            "Busy slaves per interval",
            "slaves",
            labels,
            [{"label": "# Busy slaves", "data": data["busy_slaves"]}],
        ),
        chart(
            "chart-silos",
            "Busy share per silo",
            "% busy",
            labels,
            [{"label": "Totals", "data": data["busy_percent"]}, *silos],
        ),
    ]
    return render_report(
        request, fmt, data, "reports/slaves.html", "Slaves", window=window, charts=charts
    )


BUILD_COLUMNS = (
    "builder_id",
    "builder_name",
    "result",
    "duration",
    "starttime",
    "endtime",
)


@router.get("/reports/slaves/{slave_id}", summary="One slave: busy and idle time, its builds")
@cached(60)
def slave(
    request: Request,
    fmt: TableFormat,
    state: State,
    slave_id: Annotated[int, Path(ge=0, le=MAX_ID, description="statusdb slave id")],
    window: SlaveWindow,
    last_int_size: LastIntSize = None,
) -> Response:
    last = _last_int_size(window, last_int_size)
    with state.databases.statusdb.connect() as connection:
        name = queries.slave_name(connection, slave_id)
        if name is None:
            raise NotFound(f"Slave {slave_id} not found")
        rows = queries.slave_builds(connection, window.starttime, window.endtime, slave_id=slave_id)
        data = slave_details(slave_id, name, rows, window, last)
    if fmt == "csv":
        return csv_response(
            BUILD_COLUMNS, ([build[key] for key in BUILD_COLUMNS] for build in data["builds"])
        )
    intervals = data["intervals"]
    labels = _labels(state, [item["start"] for item in intervals])
    charts = [
        chart(
            "chart-busy",
            "Busy and idle time per interval",
            "%",
            labels,
            [
                {"label": key.capitalize(), "data": [item[key] for item in intervals]}
                for key in ("busy", "idle")
            ],
            stacked=True,
            kind="bar",
        ),
        chart(
            "chart-results",
            "Builds started per interval, by result",
            "builds",
            labels,
            [
                {"label": key.capitalize(), "data": [item[key] for item in intervals]}
                for key in ("success", "warnings", "failure")
            ],
            stacked=True,
            kind="bar",
        ),
    ]
    title = f"Slave {slave_id}: {name}"
    return render_report(
        request, fmt, data, "reports/slave.html", title, window=window, charts=charts
    )


BUILDER_COLUMNS = (
    "name",
    "total",
    "avg_build_duration",
    "slaves",
    "results_success",
    "results_warnings",
    "results_failure_all",
    "results_failure",
    "results_skipped",
    "results_exception",
    "results_retry",
    "results_no_result",
)


@router.get("/reports/status_builders", summary="Builds per builder: count, time, results")
@cached(60)
def builders_list(
    request: Request, fmt: TableFormat, state: State, window: ReportWindow
) -> Response:
    with state.databases.statusdb.connect() as connection:
        rows = queries.builder_summaries(connection, window.starttime, window.endtime)
    data = status_builders(rows, window)
    if fmt == "csv":
        return csv_response(
            BUILDER_COLUMNS, ([item[key] for key in BUILDER_COLUMNS] for item in data["builders"])
        )
    return render_report(
        request, fmt, data, "reports/status_builders.html", "Status builders", window=window
    )


@router.get("/reports/status_builders/{name}", summary="One builder's builds, per slave")
@cached(60)
def builder_details(
    request: Request,
    fmt: TableFormat,
    state: State,
    name: Annotated[str, Path(description="builder name, exactly")],
    window: ReportWindow,
) -> Response:
    with state.databases.statusdb.connect() as connection:
        if not queries.builder_known(connection, name):
            raise NotFound(f"Builder {name!r} not found")
        rows = queries.slave_builds(connection, window.starttime, window.endtime, builder_name=name)
        data = status_builder(name, rows, window)
    if fmt == "csv":
        columns = (
            "slave_id",
            *SLAVE_COLUMNS[1:3],
            "total",
            "avg_build_duration",
            *SLAVE_COLUMNS[7:15],
        )
        return csv_response(columns, ([item[key] for key in columns] for item in data["slaves"]))
    title = f"Status builder: {name}"
    return render_report(request, fmt, data, "reports/status_builder.html", title, window=window)


@router.get("/reports/testruns", summary="Per builder: build time and time spent in tests")
@cached(300)
def testruns(
    request: Request,
    fmt: TableFormat,
    state: State,
    window: ReportWindow,
    category: Annotated[str | None, Query(description="builder category; default all")] = None,
    platform: Annotated[str | None, Query(description=f"one of {', '.join(PLATFORMS)}")] = None,
    btype: Annotated[str | None, Query(description="debug, opt or other")] = None,
    group: Annotated[str | None, Query(description="true: average per test suite")] = None,
) -> Response:
    chosen_platform = checked_choice(platform, "platform", PLATFORMS)
    chosen_btype = checked_choice(btype, "btype", BUILD_TYPES)
    grouped = checked_group(group)
    chosen_category = category if category and category != "ALL" else None
    with state.databases.statusdb.connect() as connection:
        rows = queries.testrun_averages(
            connection, window.starttime, window.endtime, chosen_category
        )
    data = testrun_report(
        rows,
        window,
        category=chosen_category,
        platform=chosen_platform,
        btype=chosen_btype,
        group=grouped,
    )
    table = [
        [name, entry["total"], entry["test"], entry["ratio"], entry["platform"]]
        for name, entry in data["builders"].items()
    ]
    if fmt == "csv":
        return csv_response(("builder", "total", "test", "ratio", "platform"), table)
    names = list(data["builders"])
    charts = [
        chart(
            "chart-testruns",
            "Test runs",
            "seconds",
            names,
            [
                {"label": "Setup/teardown", "data": [row[1] - row[2] for row in table]},
                {"label": "Tests", "data": [row[2] for row in table]},
            ],
            kind="bar",
            stacked=True,
        )
    ]
    return render_report(
        request,
        fmt,
        data,
        "reports/testruns.html",
        "Test runs",
        window=window,
        charts=charts,
        platforms=PLATFORMS,
        build_types=BUILD_TYPES,
    )


@router.get("/reports/idlejobs", summary="Idle-category builders: compute time per interval")
@cached(300)
def idlejobs(request: Request, fmt: TableFormat, state: State, window: IdleWindow) -> Response:
    with state.databases.statusdb.connect() as connection:
        data = idle_jobs(queries.idle_builds(connection, window.starttime, window.endtime), window)
    header = ["builder", "total compute time", *map(str, data["intervals"])]
    table = [
        [name, entry["total compute time"], *entry["intervals"]]
        for name, entry in data["builders"].items()
    ]
    if fmt == "csv":
        return csv_response(header, table)
    labels = _labels(state, data["intervals"])
    series = [
        {"label": name, "data": entry["intervals"]} for name, entry in data["builders"].items()
    ]
    charts = [chart("chart-idle", "Idle runs", "builds", labels, series, stacked=True)]
    return render_report(
        request,
        fmt,
        data,
        "reports/idlejobs.html",
        "Idle jobs",
        window=window,
        charts=charts,
        labels=labels,
        totals=[sum(column) for column in zip(*(row[2:] for row in table), strict=True)]
        or [0] * len(labels),
    )


DEFAULT_BRANCH = "mozilla-central"
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
ListQuery = Annotated[str | None, Query(description="comma-separated values; empty: all")]


@router.get("/reports/builders", summary="Average run time per builder of mozilla-central")
@cached(60)
def builders_default(
    request: Request,
    fmt: TableFormat,
    state: State,
    window: ReportWindow,
    detail_level: Annotated[str | None, Query(description="branch … builder")] = None,
    platform: ListQuery = None,
    build_type: ListQuery = None,
    job_type: ListQuery = None,
) -> Response:
    return _builders(
        request, fmt, state, DEFAULT_BRANCH, window, detail_level, platform, build_type, job_type
    )


@router.get("/reports/builders/{branch}", summary="Average run time per builder of a branch")
@cached(60)
def builders_of_branch(
    request: Request,
    fmt: TableFormat,
    state: State,
    branch: Annotated[str, Path(description="a branch of the branches config")],
    window: ReportWindow,
    detail_level: Annotated[str | None, Query(description="branch … builder")] = None,
    platform: ListQuery = None,
    build_type: ListQuery = None,
    job_type: ListQuery = None,
) -> Response:
    return _builders(
        request, fmt, state, branch, window, detail_level, platform, build_type, job_type
    )


def _builders(
    request: Request,
    fmt: str,
    state: AppState,
    branch: str,
    window: Window,
    detail_level: str | None,
    platform: str | None,
    build_type: str | None,
    job_type: str | None,
) -> Response:
    chosen = known_branch(state, branch)
    level = checked_detail_level(detail_level)
    filters = {
        "platform": checked_filter("platform", platform),
        "build_type": checked_filter("build_type", build_type),
        "job_type": checked_filter("job_type", job_type),
    }
    scope = Scope(chosen, window.starttime, window.endtime)
    with state.databases.schedulerdb.connect() as connection:
        requests = fold(request_rows(connection, scope), branch_namer(state.layout))
        data = builder_tree(requests, branch, window, detail_level=level, filters=filters)
    if fmt == "csv":
        return csv_response(
            TREE_COLUMNS, ([node[key] for key in TREE_COLUMNS] for node in data["builders"])
        )
    listed = data["builders"]
    charts = [
        chart(
            "chart-runtime",
            f"Share of run time per {level}",
            "%",
            [
                " ".join(
                    filter(None, (n["platform"], n["build_type"], n["job_type"], n["buildername"]))
                )
                or branch
                for n in listed
            ],
            [{"label": "Run time %", "data": [float(n["ptg_run_time"]) for n in listed]}],
            kind="pie",
        )
    ]
    title = f"Average time per builder: {branch}"
    return render_report(
        request,
        fmt,
        data,
        "reports/builders.html",
        title,
        window=window,
        charts=charts,
        levels=DETAIL_LEVELS,
    )


@router.get("/reports/builder/{name}", summary="One builder's run times and build requests")
@cached(60)
def builder(
    request: Request,
    fmt: TableFormat,
    state: State,
    name: Annotated[str, Path(description="builder name, exactly")],
    window: ReportWindow,
) -> Response:
    scope = Scope(None, window.starttime, window.endtime, buildername=name)
    with state.databases.schedulerdb.connect() as connection:
        if not builder_requested(connection, name):
            raise NotFound(f"Builder {name!r} not found")
        requests = fold(request_rows(connection, scope), branch_namer(state.layout))
        data = builder_report(requests, name, window)
    if fmt == "csv":
        columns = (
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
        return csv_response(
            columns, ([item[key] for key in columns] for item in data["build_requests"])
        )
    runs = [item for item in data["build_requests"] if item["start_time"]][::-1]
    charts = [
        chart(
            "chart-runs",
            "Run time of each build request",
            "seconds",
            _labels(state, [item["start_time"] for item in runs]),
            [{"label": "Run time", "data": [item["run_time"] for item in runs]}],
            kind="bar",
        )
    ]
    return render_report(
        request,
        fmt,
        data,
        "reports/builder.html",
        f"Builder: {name}",
        window=window,
        charts=charts,
    )
