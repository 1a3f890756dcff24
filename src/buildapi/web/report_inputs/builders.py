"""Queries and loaders of the run-time reports: the builders tree and one builder."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query

from buildapi.db.queries.report_requests import Scope, builder_requested, request_rows
from buildapi.errors import NotFound
from buildapi.reports.builders import (
    builder_report,
    builder_tree,
    checked_detail_level,
    checked_filter,
)
from buildapi.reports.catalog import REPORT_BRANCH
from buildapi.reports.pages.builders import BuilderQuery, BuildersQuery
from buildapi.reports.requests import branch_namer, fold
from buildapi.reports.window import Window
from buildapi.web.deps import AppState
from buildapi.web.params import known_branch
from buildapi.web.report_params import BranchPath, NamePath, ReportWindow

ListQuery = Annotated[str | None, Query(description="comma-separated values; empty: all")]
Tree = tuple[str, dict[str, list[str]]]


def tree_params(
    detail_level: Annotated[str | None, Query(description="branch … builder")] = None,
    platform: ListQuery = None,
    build_type: ListQuery = None,
    job_type: ListQuery = None,
) -> Tree:
    """The tree's depth and its filters, checked."""
    chosen = {"platform": platform, "build_type": build_type, "job_type": job_type}
    return (
        checked_detail_level(detail_level),
        {name: checked_filter(name, value) for name, value in chosen.items()},
    )


TreeParams = Annotated[Tree, Depends(tree_params)]


def _tree_query(branch: str, window: Window, tree: Tree) -> BuildersQuery:
    level, filters = tree
    return BuildersQuery(branch, window, level, filters)


def central_query(window: ReportWindow, tree: TreeParams) -> BuildersQuery:
    return _tree_query(REPORT_BRANCH, window, tree)


def branch_query(branch: BranchPath, window: ReportWindow, tree: TreeParams) -> BuildersQuery:
    return _tree_query(branch, window, tree)


def load_tree(state: AppState, query: BuildersQuery) -> dict[str, Any]:
    chosen = known_branch(state, query.branch)
    window = query.window
    scope = Scope(chosen, window.starttime, window.endtime)
    with state.databases.schedulerdb.connect() as connection:
        requests = fold(request_rows(connection, scope), branch_namer(state.layout))
        return builder_tree(
            requests, query.branch, window, detail_level=query.level, filters=query.filters
        )


def builder_query(name: NamePath, window: ReportWindow) -> BuilderQuery:
    return BuilderQuery(name, window)


def load_builder(state: AppState, query: BuilderQuery) -> dict[str, Any]:
    window = query.window
    scope = Scope(None, window.starttime, window.endtime, buildername=query.name)
    with state.databases.schedulerdb.connect() as connection:
        # A configured builder nobody has requested yet has a report too: an empty one.
        known = query.name in state.layout.builders
        if not known and not builder_requested(connection, query.name):
            raise NotFound(f"Builder {query.name!r} not found")
        requests = fold(request_rows(connection, scope), branch_namer(state.layout))
        return builder_report(requests, query.name, window)
