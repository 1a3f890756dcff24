"""Run times per builder from the build-request model: the builders tree and one builder."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import Response

from buildapi.db.queries.report_requests import Scope, builder_requested, request_rows
from buildapi.errors import NotFound
from buildapi.reports.builders import (
    DETAIL_LEVELS,
    builder_report,
    builder_tree,
    checked_detail_level,
    checked_filter,
)
from buildapi.reports.catalog import REPORT_BRANCH
from buildapi.reports.requests import branch_namer, fold
from buildapi.reports.window import Window
from buildapi.web.caching import cached
from buildapi.web.charts import chart, interval_labels
from buildapi.web.deps import AppState, State
from buildapi.web.negotiation import TableFormat
from buildapi.web.params import known_branch
from buildapi.web.responses import csv_response
from buildapi.web.routes.reports import ReportWindow, render_report

router = APIRouter()

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


@dataclass(frozen=True)
class TreeParams:
    """The tree's depth and its filters, checked."""

    level: str
    filters: dict[str, list[str]]


def tree_params(
    detail_level: Annotated[str | None, Query(description="branch … builder")] = None,
    platform: ListQuery = None,
    build_type: ListQuery = None,
    job_type: ListQuery = None,
) -> TreeParams:
    chosen = {"platform": platform, "build_type": build_type, "job_type": job_type}
    return TreeParams(
        checked_detail_level(detail_level),
        {name: checked_filter(name, value) for name, value in chosen.items()},
    )


Tree = Annotated[TreeParams, Depends(tree_params)]


@router.get("/reports/builders", summary="Average run time per builder of mozilla-central")
@cached(60)
def builders_default(
    request: Request, fmt: TableFormat, state: State, window: ReportWindow, tree: Tree
) -> Response:
    return _builders(request, fmt, state, REPORT_BRANCH, window, tree)


@router.get("/reports/builders/{branch}", summary="Average run time per builder of a branch")
@cached(60)
def builders_of_branch(
    request: Request,
    fmt: TableFormat,
    state: State,
    branch: Annotated[str, Path(description="a branch of the branches config")],
    window: ReportWindow,
    tree: Tree,
) -> Response:
    return _builders(request, fmt, state, branch, window, tree)


def _builders(
    request: Request, fmt: str, state: AppState, branch: str, window: Window, tree: TreeParams
) -> Response:
    chosen = known_branch(state, branch)
    level = tree.level
    scope = Scope(chosen, window.starttime, window.endtime)
    with state.databases.schedulerdb.connect() as connection:
        requests = fold(request_rows(connection, scope), branch_namer(state.layout))
        data = builder_tree(requests, branch, window, detail_level=level, filters=tree.filters)
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
        # A configured builder nobody has requested yet has a report too: an empty one.
        if name not in state.layout.builders and not builder_requested(connection, name):
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
            interval_labels(state.settings.zone, [item["start_time"] for item in runs]),
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
