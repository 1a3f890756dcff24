"""Queries and loaders of the statusdb reports: slaves, status builders, test runs, idle jobs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Query

from buildapi.db.queries import report_status as queries
from buildapi.errors import BadInput, NotFound
from buildapi.reports.idlejobs import idle_jobs
from buildapi.reports.pages.idlejobs import IdleJobsQuery
from buildapi.reports.pages.slaves import (
    SlaveQuery,
    SlavesQuery,
    StatusBuilderQuery,
    StatusBuildersQuery,
)
from buildapi.reports.pages.testruns import TestrunsQuery
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
from buildapi.web.deps import AppState
from buildapi.web.params import MAX_ID, Integer
from buildapi.web.report_params import NamePath, ReportWindow, window_dependency

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


def slaves_query(window: SlavesWindow, last_int_size: LastIntSize = None) -> SlavesQuery:
    return SlavesQuery(window, _last_int_size(window, last_int_size))


def load_slaves(state: AppState, query: SlavesQuery) -> dict[str, Any]:
    window = query.window
    with state.databases.statusdb.connect() as connection:
        rows = queries.slave_builds(connection, window.starttime, window.endtime)
        return slaves_report(rows, window, query.last_int_size)


def slave_query(
    slave_id: Annotated[Integer, Path(ge=0, le=MAX_ID, description="statusdb slave id")],
    window: SlaveWindow,
    last_int_size: LastIntSize = None,
) -> SlaveQuery:
    return SlaveQuery(slave_id, window, _last_int_size(window, last_int_size))


def load_slave(state: AppState, query: SlaveQuery) -> dict[str, Any]:
    window, slave_id = query.window, query.slave_id
    with state.databases.statusdb.connect() as connection:
        name = queries.slave_name(connection, slave_id)
        if name is None:
            raise NotFound(f"Slave {slave_id} not found")
        rows = queries.slave_builds(connection, window.starttime, window.endtime, slave_id=slave_id)
        return slave_details(slave_id, name, rows, window, query.last_int_size)


def status_builders_query(window: ReportWindow) -> StatusBuildersQuery:
    return StatusBuildersQuery(window)


def load_status_builders(state: AppState, query: StatusBuildersQuery) -> dict[str, Any]:
    window = query.window
    with state.databases.statusdb.connect() as connection:
        rows = queries.builder_summaries(connection, window.starttime, window.endtime)
    return status_builders(rows, window)


def status_builder_query(name: NamePath, window: ReportWindow) -> StatusBuilderQuery:
    return StatusBuilderQuery(name, window)


def load_status_builder(state: AppState, query: StatusBuilderQuery) -> dict[str, Any]:
    window, name = query.window, query.name
    with state.databases.statusdb.connect() as connection:
        if not queries.builder_known(connection, name):
            raise NotFound(f"Builder {name!r} not found")
        rows = queries.slave_builds(connection, window.starttime, window.endtime, builder_name=name)
        return status_builder(name, rows, window)


def testruns_query(
    window: ReportWindow,
    category: Annotated[str | None, Query(description="builder category; default all")] = None,
    platform: Annotated[str | None, Query(description=f"one of {', '.join(PLATFORMS)}")] = None,
    btype: Annotated[str | None, Query(description="debug, opt or other")] = None,
    group: Annotated[str | None, Query(description="true: average per test suite")] = None,
) -> TestrunsQuery:
    return TestrunsQuery(
        window,
        category if category and category != "ALL" else None,
        checked_choice(platform, "platform", PLATFORMS),
        checked_choice(btype, "btype", BUILD_TYPES),
        checked_group(group),
    )


def load_testruns(state: AppState, query: TestrunsQuery) -> dict[str, Any]:
    window = query.window
    with state.databases.statusdb.connect() as connection:
        rows = queries.testrun_averages(
            connection, window.starttime, window.endtime, query.category
        )
    return testrun_report(
        rows,
        window,
        category=query.category,
        platform=query.platform,
        btype=query.btype,
        group=query.group,
    )


def idle_jobs_query(window: IdleWindow) -> IdleJobsQuery:
    return IdleJobsQuery(window)


def load_idle_jobs(state: AppState, query: IdleJobsQuery) -> dict[str, Any]:
    window = query.window
    with state.databases.statusdb.connect() as connection:
        return idle_jobs(queries.idle_builds(connection, window.starttime, window.endtime), window)
