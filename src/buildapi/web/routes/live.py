"""Live views: pending and running by branch and revision, recent builds, a revision's jobs,
pushes per author."""

from __future__ import annotations

import datetime
import time
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from buildapi.db.queries.live import (
    RevisionRow,
    pending_rows,
    push_counts,
    retried_flags,
    revision_rows,
    running_rows,
)
from buildapi.db.queries.recent import recent_builds
from buildapi.dumps.shapes import (
    pending_shape,
    recent_item,
    revision_item,
    revision_shape,
    running_shape,
)
from buildapi.errors import BadInput, NotFound
from buildapi.times import checked_epoch, parse_epoch
from buildapi.vocabulary import Result
from buildapi.web.caching import cached
from buildapi.web.csrf import PLACEHOLDER, with_token
from buildapi.web.deps import AppState, State
from buildapi.web.links import masters_by_name
from buildapi.web.negotiation import OutputFormat
from buildapi.web.params import Integer, branch_filter, checked_revision, known_branch
from buildapi.web.responses import render

router = APIRouter()

BranchPath = Annotated[str, Path(description="short branch name, a key of /self-serve/branches")]
NumBuilds = Annotated[Integer, Query(ge=1, le=1000, description="how many builds")]
BranchQuery = Annotated[str | None, Query(description="short branch name (without a path one)")]


def _pending(request: Request, fmt: str, state: AppState, branch: str | None) -> Response:
    chosen = branch_filter(state, branch)
    with state.databases.schedulerdb.connect() as connection:
        found = pending_rows(connection, chosen)
    data = pending_shape(found, list(state.layout.branches))
    priorities = {row[0]: row[5] for row in found} if fmt == "html" else {}
    rows = _flatten(data["pending"], lambda item: item["submitted_at"]) if fmt == "html" else []
    return render(
        request,
        fmt,
        data,
        template="pending.html",
        title="Pending builds",
        rows=rows,
        priorities=priorities,
        branch=branch,
        known=state.layout.branches,
        now=time.time(),
        csrf_token=PLACEHOLDER,
    )


def _running(request: Request, fmt: str, state: AppState, branch: str | None) -> Response:
    chosen = branch_filter(state, branch)
    with state.databases.schedulerdb.connect() as connection:
        data = running_shape(running_rows(connection, chosen), list(state.layout.branches))
    rows = _flatten(data["running"], lambda item: item["start_time"]) if fmt == "html" else []
    return render(
        request,
        fmt,
        data,
        template="running.html",
        title="Running builds",
        rows=rows,
        branch=branch,
        known=state.layout.branches,
        now=time.time(),
        masters=masters_by_name(state.layout),
        csrf_token=PLACEHOLDER,
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
@with_token
@cached(10, live=True)
def pending(request: Request, fmt: OutputFormat, state: State, branch: BranchQuery = None):
    return _pending(request, fmt, state, branch)


@router.get("/pending/{branch}", summary="Pending build requests of one branch")
@with_token
@cached(10, live=True)
def pending_branch(request: Request, fmt: OutputFormat, state: State, branch: BranchPath):
    return _pending(request, fmt, state, branch)


@router.get("/running", summary="Running builds, by short branch and revision")
@with_token
@cached(10, live=True)
def running(request: Request, fmt: OutputFormat, state: State, branch: BranchQuery = None):
    return _running(request, fmt, state, branch)


@router.get("/running/{branch}", summary="Running builds of one branch")
@with_token
@cached(10, live=True)
def running_branch(request: Request, fmt: OutputFormat, state: State, branch: BranchPath):
    return _running(request, fmt, state, branch)


@router.get("/recent", summary="The newest builds of the status database, running ones too")
@cached(30, live=True)
def recent(request: Request, fmt: OutputFormat, state: State, numbuilds: NumBuilds = 25):
    return _recent(request, fmt, state, None, numbuilds, True)


@router.get("/recent/{slave}", summary="The newest finished builds of one slave")
@cached(30, live=True)
def recent_slave(
    request: Request,
    fmt: OutputFormat,
    state: State,
    slave: str,
    numbuilds: NumBuilds = 25,
    greedy: Annotated[bool, Query(description="match every slave starting with the name")] = True,
):
    return _recent(request, fmt, state, slave, numbuilds, greedy)


def _recent(
    request: Request, fmt: str, state: AppState, slave: str | None, limit: int, greedy: bool
) -> Response:
    with state.databases.statusdb.connect() as connection:
        data = [recent_item(build) for build in recent_builds(connection, limit, slave, greedy)]
    return render(
        request,
        fmt,
        data,
        template="recent.html",
        title="Recent builds",
        slave=slave,
        masters=masters_by_name(state.layout),
    )


@router.get("/revision/{branch}/{revision}", summary="Every request and build of a revision")
@cached(30, live=True)
def revision(request: Request, fmt: OutputFormat, state: State, branch: BranchPath, revision: str):
    chosen = known_branch(state, branch)
    revision = checked_revision(revision)
    names = list(state.layout.branches)
    with state.databases.schedulerdb.connect() as connection:
        found = revision_rows(connection, chosen, revision)
        pending = pending_shape(pending_rows(connection, chosen), names)
    if not found:
        raise NotFound(f"Revision {revision} not found on branch {branch}")
    data = {
        "branch": branch,
        "revision": revision,
        "pending": pending["pending"],
        "all": revision_shape(found, names),
    }
    return render(
        request,
        fmt,
        data,
        template="revision_legacy.html",
        title=f"Builds for {revision}",
        rows=page_rows(found) if fmt == "html" else [],
        now=time.time(),
    )


def page_rows(found: list[RevisionRow]) -> list[dict[str, Any]]:
    """The revision's rows as the page shows them: a build with its own result, RETRY where
    its request ran again (the JSON keeps the request's result, as legacy)."""
    rows = [revision_item(row) for row in found]
    for row, retried in zip(rows, retried_flags(found), strict=True):
        if retried:
            row["results"] = Result.RETRY
    return rows


FromTime = Annotated[str | None, Query(description="epoch seconds or `today` (local midnight)")]
ToTime = Annotated[Integer | None, Query(description="epoch seconds")]


@router.get("/pushes", summary="Pushes per author over a time window")
@cached(60)
def pushes(
    request: Request,
    fmt: OutputFormat,
    state: State,
    fromtime: FromTime = None,
    totime: ToTime = None,
):
    return _pushes(request, fmt, state, None, fromtime, totime)


@router.get("/pushes/{branch}", summary="Pushes per author on one branch")
@cached(60)
def pushes_branch(
    request: Request,
    fmt: OutputFormat,
    state: State,
    branch: BranchPath,
    fromtime: FromTime = None,
    totime: ToTime = None,
):
    return _pushes(request, fmt, state, branch, fromtime, totime)


@router.get("/pushes/{branch}/{fromtime}", summary="Pushes per author on a branch since a time")
@cached(60)
def pushes_since(
    request: Request,
    fmt: OutputFormat,
    state: State,
    branch: BranchPath,
    fromtime: str,
    totime: ToTime = None,
):
    return _pushes(request, fmt, state, branch, fromtime, totime)


@router.get("/pushes/{branch}/{fromtime}/{totime}", summary="Pushes per author between two times")
@cached(60)
def pushes_between(
    request: Request,
    fmt: OutputFormat,
    state: State,
    branch: BranchPath,
    fromtime: str,
    totime: Annotated[Integer, Path(description="epoch seconds")],
):
    return _pushes(request, fmt, state, branch, fromtime, totime)


def _pushes(
    request: Request,
    fmt: str,
    state: AppState,
    branch: str | None,
    fromtime: str | None,
    totime: int | None,
) -> Response:
    chosen = branch_filter(state, branch)
    start = _from_time(state, fromtime)
    if totime is not None and checked_epoch(totime, "totime") < start:
        raise BadInput("totime must not be before fromtime")
    with state.databases.schedulerdb.connect() as connection:
        counts = push_counts(connection, chosen, start, totime)
    data = {"TOTAL": sum(counts.values()), **dict(sorted(counts.items(), key=lambda kv: -kv[1]))}
    return render(
        request,
        fmt,
        data,
        template="pushes.html",
        title="Pushes",
        branch=branch,
        branches=sorted(state.layout.branches),
        start=start,
        end=totime,
        now=int(time.time()),
    )


def _from_time(state: AppState, fromtime: str | None) -> int:
    """Epoch seconds; `today` is midnight in the configured zone; default the last 24 hours."""
    if fromtime is None:
        return int(time.time()) - 86400
    if fromtime == "today":
        now = datetime.datetime.now(state.settings.zone)
        return int(now.replace(hour=0, minute=0, second=0, microsecond=0).timestamp())
    return int(parse_epoch(fromtime, "fromtime", "epoch seconds or 'today'"))
