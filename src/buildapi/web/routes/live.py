"""Live views: pending requests and running builds, by branch and revision."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from buildapi.db.queries.live import BranchFilter, pending_rows, running_rows
from buildapi.dumps.shapes import pending_shape, running_shape
from buildapi.errors import NotFound
from buildapi.web.deps import AppState, State
from buildapi.web.negotiation import OutputFormat
from buildapi.web.responses import render

router = APIRouter()

BranchPath = Annotated[str, Path(description="short branch name, a key of /self-serve/branches")]
BranchQuery = Annotated[str | None, Query(description="short branch name (without a path one)")]


def branch_filter(state: AppState, name: str | None) -> BranchFilter | None:
    if name is None:
        return None
    branch = state.layout.branches.get(name)
    if branch is None:
        raise NotFound(f"Branch {name} not found")
    return BranchFilter(name, branch.repo_path)


def _pending(request: Request, fmt: str, state: AppState, branch: str | None) -> Response:
    chosen = branch_filter(state, branch)
    with state.databases.schedulerdb.connect() as connection:
        data = pending_shape(pending_rows(connection, chosen), list(state.layout.branches))
    rows = _flatten(data["pending"], lambda item: item["submitted_at"])
    return render(
        request,
        fmt,
        data,
        template="pending.html",
        title="Pending builds",
        rows=rows,
        branch=branch,
        now=time.time(),
    )


def _running(request: Request, fmt: str, state: AppState, branch: str | None) -> Response:
    chosen = branch_filter(state, branch)
    with state.databases.schedulerdb.connect() as connection:
        data = running_shape(running_rows(connection, chosen), list(state.layout.branches))
    rows = _flatten(data["running"], lambda item: item["start_time"])
    masters = {master.db_name: master for master in state.layout.masters}
    return render(
        request,
        fmt,
        data,
        template="running.html",
        title="Running builds",
        rows=rows,
        branch=branch,
        now=time.time(),
        masters=masters,
    )


def _flatten(tree: dict[str, dict[str, list]], newest: Any) -> list[dict[str, Any]]:
    """Table rows (branch, revision, item), newest first."""
    rows = [
        {"branch": branch, "revision": revision, **item}
        for branch, revisions in tree.items()
        for revision, items in revisions.items()
        for item in items
    ]
    return sorted(rows, key=newest, reverse=True)


@router.get("/pending", summary="Pending build requests, by short branch and revision")
def pending(request: Request, fmt: OutputFormat, state: State, branch: BranchQuery = None):
    return _pending(request, fmt, state, branch)


@router.get("/pending/{branch}", summary="Pending build requests of one branch")
def pending_branch(request: Request, fmt: OutputFormat, state: State, branch: BranchPath):
    return _pending(request, fmt, state, branch)


@router.get("/running", summary="Running builds, by short branch and revision")
def running(request: Request, fmt: OutputFormat, state: State, branch: BranchQuery = None):
    return _running(request, fmt, state, branch)


@router.get("/running/{branch}", summary="Running builds of one branch")
def running_branch(request: Request, fmt: OutputFormat, state: State, branch: BranchPath):
    return _running(request, fmt, state, branch)
