"""Queries and loaders of the schedulerdb reports over pushes and build runs."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query

from buildapi.db.queries.report_pushes import push_rows
from buildapi.errors import BadInput
from buildapi.reports.catalog import REPORT_BRANCH
from buildapi.reports.pages.pushes import PushesQuery
from buildapi.reports.pages.runs import BuildRunQuery, RunsQuery
from buildapi.reports.pushes import pushes_report
from buildapi.reports.requests import branch_namer
from buildapi.reports.runs import build_run, end_to_end, try_chooser
from buildapi.web.deps import AppState
from buildapi.web.params import checked_revision, known_branch
from buildapi.web.report_params import BranchPath, ReportWindow

BranchesQuery = Annotated[
    str | None, Query(description="comma-separated branches of the branches config; empty: all")
]


def pushes_query(window: ReportWindow, branches: BranchesQuery = None) -> PushesQuery:
    names = (name.strip() for name in (branches or "").split(","))
    return PushesQuery(window, tuple(name for name in names if name))


def load_pushes(state: AppState, query: PushesQuery) -> dict[str, Any]:
    unknown = [name for name in query.branches if name not in state.layout.branches]
    if unknown:
        known = ", ".join(state.layout.branches)
        raise BadInput(f"unknown branches {', '.join(unknown)}; branches are: {known}")
    filters = [known_branch(state, name) for name in query.branches]
    window = query.window
    with state.databases.schedulerdb.connect() as connection:
        return pushes_report(
            push_rows(connection, window.starttime, window.endtime, filters),
            window=window,
            namer=branch_namer(state.layout),
            branches=list(query.branches),
            zone=state.settings.zone,
        )


def central_query(window: ReportWindow) -> RunsQuery:
    return RunsQuery(REPORT_BRANCH, window)


def try_query(window: ReportWindow) -> RunsQuery:
    return RunsQuery("try", window)


def branch_query(branch: BranchPath, window: ReportWindow) -> RunsQuery:
    return RunsQuery(branch, window)


def load_endtoend(state: AppState, query: RunsQuery) -> dict[str, Any]:
    chosen = known_branch(state, query.branch)
    with state.databases.schedulerdb.connect() as connection:
        return end_to_end(connection, chosen, query.window, branch_namer(state.layout))


def load_trychooser(state: AppState, query: RunsQuery) -> dict[str, Any]:
    chosen = known_branch(state, query.branch)
    with state.databases.schedulerdb.connect() as connection:
        return try_chooser(connection, chosen, query.window, branch_namer(state.layout))


def build_run_query(branch: BranchPath, revision: str) -> BuildRunQuery:
    return BuildRunQuery(branch, checked_revision(revision))


def load_build_run(state: AppState, query: BuildRunQuery) -> dict[str, Any]:
    chosen = known_branch(state, query.branch)
    with state.databases.schedulerdb.connect() as connection:
        return build_run(connection, chosen, query.revision, branch_namer(state.layout))
