"""Reports read from statusdb: slaves, status builders, test runs and idle jobs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import Response

from buildapi.db.queries import report_status as queries
from buildapi.errors import BadInput, NotFound
from buildapi.reports.idlejobs import idle_jobs
from buildapi.reports.slaves import RESULT_KEYS, slave_details, slaves_report
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
from buildapi.web.charts import chart, interval_labels
from buildapi.web.deps import State
from buildapi.web.negotiation import TableFormat
from buildapi.web.params import MAX_ID, Integer
from buildapi.web.responses import csv_response
from buildapi.web.routes.reports import ReportWindow, render_report, window_dependency

router = APIRouter()

# A day of slave activity in 3-minute steps; a slave's own page in hours.
SLAVES_INTERVALS = 480
SLAVE_INTERVALS = 24
LAST_INTERVAL_SHARE = 24

LastIntSize = Annotated[
    Integer | None,
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
    labels = interval_labels(state.settings.zone, data["intervals"])
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
    slave_id: Annotated[Integer, Path(ge=0, le=MAX_ID, description="statusdb slave id")],
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
    labels = interval_labels(state.settings.zone, [item["start"] for item in intervals])
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
    *RESULT_KEYS,
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
        columns = ("slave_id", "name", "silo", "total", "avg_build_duration", *RESULT_KEYS)
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
    labels = interval_labels(state.settings.zone, data["intervals"])
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
