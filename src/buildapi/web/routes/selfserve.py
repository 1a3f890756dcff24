"""Self-serve reads: branches, builds of a day or a revision, one build or request, jobs."""

from __future__ import annotations

import dataclasses
import datetime
import time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import RedirectResponse, Response

from buildapi.db.queries import job_tables
from buildapi.db.queries import selfserve as queries
from buildapi.db.queries.jobrequests import (
    COMPLETE,
    PUBLISHED,
    RECORDED,
    JobFilter,
    count_jobs,
    get_job,
    list_jobs,
)
from buildapi.errors import NotFound, Unauthenticated
from buildapi.layout import periodic_builders
from buildapi.selfserve import shapes
from buildapi.selfserve.auth import Identity
from buildapi.selfserve.messages import ACTIONS
from buildapi.times import midnight, parse_day
from buildapi.web.auth import Reader
from buildapi.web.caching import cached
from buildapi.web.csrf import PLACEHOLDER, with_token
from buildapi.web.deps import AppState, State
from buildapi.web.links import masters_by_name
from buildapi.web.negotiation import OutputFormat
from buildapi.web.paging import Pager, Table
from buildapi.web.params import MAX_ID, Id, Integer, checked_revision, known_branch
from buildapi.web.responses import (
    BRANCHES_PAGE,
    BUILD_PAGE,
    BUILDERS_PAGE,
    REQUEST_PAGE,
    USER_PAGE,
    render,
)
from buildapi.web.table_pages import table_context
from buildapi.web.urls import link

router = APIRouter(prefix="/self-serve", tags=["self-serve"])

USER_LIMIT = 200


def day_window(state: AppState, date: str | None) -> tuple[datetime.date, int, int]:
    """Midnight to midnight of `date` (default today) in the configured time zone."""
    zone = state.settings.zone
    day = datetime.datetime.now(zone).date() if date is None else parse_day(date, "date")
    return day, midnight(day, zone, "date"), midnight(day, zone, "date", days_later=1)


def day_ttl(request: Request) -> int:
    """Today's builds change by the minute; a day long past barely changes (a build started
    late may still finish the next day)."""
    zone = request.app.state.buildapi.settings.zone
    today = datetime.datetime.now(zone).date()
    asked = request.query_params.get("date")
    try:
        age = (today - datetime.date.fromisoformat(asked)).days if asked else 0
    except ValueError:
        return 0
    return 30 if age <= 0 else 120 if age == 1 else 3600


@router.get("", summary="Root of the API: the self-serve routes and their docs")
@cached(300)
def index(request: Request, fmt: OutputFormat, state: State) -> Response:
    paths = request.app.openapi()["paths"]
    routes = [
        {"method": method.upper(), "path": path, "doc": operation.get("summary", "")}
        for path, operations in paths.items()
        if path.startswith("/self-serve")
        for method, operation in operations.items()
    ]
    routes.sort(key=lambda entry: (entry["path"], entry["method"]))
    data = {"branches": sorted(state.layout.branches), "routes": routes}
    return render(request, fmt, data, template="selfserve_index.html", title="Self-serve")


@router.get("/branches", summary="Return a list of all the branches")
@cached(300)
def branches(request: Request, fmt: OutputFormat, state: State) -> Response:
    data = {name: branch.model_dump() for name, branch in state.layout.branches.items()}
    return render(request, fmt, data, template=BRANCHES_PAGE, title="Branches")


def shows_who(state: AppState, reader: Identity | None) -> bool:
    """Whether this reader may see who made each job (`jobs_show_who`)."""
    return reader is not None or state.settings.jobs_show_who == "everyone"


@router.get("/jobs", summary="Return a list of past self-serve requests")
def jobs(
    request: Request,
    fmt: OutputFormat,
    state: State,
    reader: Reader,
    num: Annotated[Integer, Query(ge=1, le=1000)] = 100,
    offset: Annotated[Integer, Query(ge=0, le=MAX_ID)] = 0,
    who: str | None = None,
    action: str | None = None,
    branch: str | None = None,
    job_state: Annotated[str | None, Query(alias="state")] = None,
) -> Response:
    show = shows_who(state, reader)
    if who and not show:
        # Filtering would tell anonymous readers whether an address has made jobs.
        raise Unauthenticated("credentials required to filter jobs by who")
    # The filter form sends an untouched field as an empty value: no filter.
    where = JobFilter(
        who=who or None, action=action or None, branch=branch or None, state=job_state or None
    )
    with state.databases.buildapi_db.connect() as connection:
        rows = list_jobs(connection, num, offset, where)
        total = count_jobs(connection, where) if fmt != "json" else len(rows)
    found = [shapes.job_object(row, show_who=show) for row in rows]
    return render(
        request,
        fmt,
        found,
        template="jobs.html",
        title="Job history",
        pager=Pager(request, offset, len(found), total, num, by_offset=True),
        where=where,
        show_who=show,
        actions=sorted(ACTIONS),
        states=(RECORDED, PUBLISHED, COMPLETE),
        branches=sorted(state.layout.branches),
    )


@router.get("/jobs/{job_id}", summary="Return information about a job request")
def job(request: Request, fmt: OutputFormat, state: State, reader: Reader, job_id: Id) -> Response:
    with state.databases.buildapi_db.connect() as connection:
        row = get_job(connection, job_id)
    if row is None:
        raise NotFound(f"Job {job_id} not found")
    data = shapes.job_object(row, show_who=shows_who(state, reader))
    return render(
        request,
        fmt,
        data,
        template="job.html",
        title=f"Job {job_id} status detail",
        branch=row.branch,
        job_state=row.state,
    )


@router.get("/{branch}", summary="Return a list of builds running on this branch")
@with_token
@cached(day_ttl, live=True)
def branch_day(
    request: Request,
    fmt: OutputFormat,
    state: State,
    branch: str,
    table: Table,
    date: Annotated[str | None, Query(description="YYYY-MM-DD; default today")] = None,
    rev: Annotated[str | None, Query(description="jump to this revision's page")] = None,
) -> Response:
    chosen = known_branch(state, branch)
    where = table.table_filter(state.layout, branch)  # checked for the JSON too
    if rev is not None:
        target = link(request, f"/self-serve/{branch}/rev/{checked_revision(rev.strip())}")
        return RedirectResponse(target, status_code=302)
    day, start, end = day_window(state, date)
    with state.databases.schedulerdb.connect() as connection:
        if fmt == "json":
            built, waiting = queries.builds_of_day(connection, chosen, start, end)
            return render(request, fmt, shapes.job_list(built, waiting))
        scope = job_tables.day_scope(chosen, start, end)
        context = table_context(request, connection, state.layout, branch, scope, table, where)
    return render(
        request,
        fmt,
        None,
        template="branch.html",
        title=f"Builds for {branch} on {day}",
        branch=branch,
        day=day,
        today=datetime.datetime.now(state.settings.zone).date(),
        timedelta=datetime.timedelta,
        csrf_token=PLACEHOLDER,
        **context,
    )


@router.get("/{branch}/build/{build_id}", summary="Return information about a build")
@with_token
@cached(15, live=True)
def build(request: Request, fmt: OutputFormat, state: State, branch: str, build_id: Id):
    chosen = known_branch(state, branch)
    with state.databases.schedulerdb.connect() as connection:
        row = queries.build_by_id(connection, chosen, build_id)
        if row is None:
            raise NotFound(f"Build {build_id} not found on branch {branch}")
        found = queries.properties_of_buildsets(connection, [row.request.buildsetid])
    data = shapes.build_objects([row])[0]
    data["requests"] = [shapes.with_properties(data["requests"][0], found[row.request.buildsetid])]
    own = shapes.own_results([row]).get(build_id, data["status"])
    return render(
        request,
        fmt,
        data,
        template=BUILD_PAGE,
        title=f"Build {build_id}",
        branch=branch,
        own_result=own,
        masters=masters_by_name(state.layout),
        csrf_token=PLACEHOLDER,
    )


@router.get("/{branch}/builders", summary="Return a list of valid builders for this branch")
@with_token
@cached(300)
def builders(
    request: Request,
    fmt: OutputFormat,
    state: State,
    branch: str,
    revision: Annotated[
        str | None, Query(description="the page's build buttons start builds at this revision")
    ] = None,
) -> Response:
    known_branch(state, branch)
    names = sorted(state.layout.builders_for_branch(branch))
    at = checked_revision(revision.strip()) if revision else None
    return render(
        request,
        fmt,
        names,
        template=BUILDERS_PAGE,
        title=f"Builders of {branch}",
        branch=branch,
        revision=at,
        csrf_token=PLACEHOLDER,
    )


@router.get("/{branch}/request/{request_id}", summary="Return information about a request")
@with_token
@cached(15, live=True)
def build_request(request: Request, fmt: OutputFormat, state: State, branch: str, request_id: Id):
    chosen = known_branch(state, branch)
    with state.databases.schedulerdb.connect() as connection:
        row = queries.request_by_id(connection, chosen, request_id)
        if row is None:
            raise NotFound(f"Request {request_id} not found on branch {branch}")
        found = queries.properties_of_buildsets(connection, [row.buildsetid])
        build_ids = queries.build_ids_of_request(connection, request_id)
    data = shapes.with_properties(shapes.request_object(row), found[row.buildsetid])
    data["build_ids"] = build_ids
    return render(
        request,
        fmt,
        data,
        template=REQUEST_PAGE,
        title=f"Request {request_id}",
        branch=branch,
        results=row.results,
        csrf_token=PLACEHOLDER,
    )


def revision_jobs(state: AppState, branch: str, revision: str) -> list[dict[str, Any]]:
    """The revision's job list; 404 when it has none."""
    chosen = known_branch(state, branch)
    revision = checked_revision(revision)
    with state.databases.schedulerdb.connect() as connection:
        built, waiting = queries.builds_of_revision(connection, chosen, revision)
    items = shapes.job_list(built, waiting)
    if not items:
        raise NotFound(f"Revision {revision} not found on branch {branch}")
    return items


StableDelay = Annotated[
    Integer, Query(alias="stableDelay", ge=0, le=7 * 86400, description="seconds; default 180")
]


@router.get("/{branch}/rev/{revision}", summary="Return a list of builds for this revision")
@with_token
@cached(30, live=True)
def revision(
    request: Request,
    fmt: OutputFormat,
    state: State,
    branch: str,
    revision: str,
    table: Table,
    stable_delay: StableDelay = 180,
) -> Response:
    items = revision_jobs(state, branch, revision)
    where = table.table_filter(state.layout, branch)  # checked for the JSON too
    verdict = shapes.completeness(items, time.time(), stable_delay)
    if fmt == "json":
        return render(request, fmt, items)
    with state.databases.schedulerdb.connect() as connection:
        chosen, stamp = known_branch(state, branch), checked_revision(revision)
        scope = job_tables.revision_scope(connection, chosen, stamp)
        context = table_context(request, connection, state.layout, branch, scope, table, where)
        push = job_tables.changes_of_scope(connection, scope)
    return render(
        request,
        fmt,
        None,
        template="revision.html",
        title=f"Builds for {revision} on {branch}",
        branch=branch,
        revision=revision,
        verdict=verdict,
        push=push,
        to_cancel=shapes.cancellable(items),
        periodic={
            kind for kind in ("pgo", "nightly") if periodic_builders(state.layout, branch, kind)
        },
        csrf_token=PLACEHOLDER,
        **context,
    )


@router.get(
    "/{branch}/rev/{revision}/is_done",
    summary="Whether every job of this revision is done and has passed",
)
@cached(30, live=True)
def is_done(
    request: Request,
    fmt: OutputFormat,
    state: State,
    branch: str,
    revision: str,
    stable_delay: StableDelay = 180,
) -> Response:
    items = revision_jobs(state, branch, revision)
    data = shapes.completeness(items, time.time(), stable_delay)
    return render(request, fmt, data, title=f"Is {revision} done?")


@router.get("/{branch}/user/{user}", summary="Return a list of builds for this user")
@with_token
@cached(60, live=True)
def user(
    request: Request, fmt: OutputFormat, state: State, branch: str, user: str, table: Table
) -> Response:
    chosen = known_branch(state, branch)
    where = dataclasses.replace(table.table_filter(state.layout, branch), author=user)
    with state.databases.schedulerdb.connect() as connection:
        built, waiting = queries.builds_of_author(connection, chosen, user, USER_LIMIT)
        objects = shapes.build_objects(built)
        data = {
            "builds": [b for b in objects if b["endtime"] is not None],
            "running": [b for b in objects if b["endtime"] is None],
            "pending": [shapes.request_object(row) for row in waiting],
        }
        if fmt == "json":
            return render(request, fmt, data)
        scope = job_tables.branch_scope(chosen)
        context = table_context(request, connection, state.layout, branch, scope, table, where)
    return render(
        request,
        fmt,
        data,
        template=USER_PAGE,
        title=f"Builds of {user} on {branch}",
        branch=branch,
        who=user,
        csrf_token=PLACEHOLDER,
        **context,
    )
