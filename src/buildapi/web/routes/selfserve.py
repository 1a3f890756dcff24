"""Self-serve reads: branches, builds of a day or a revision, one build or request, jobs."""

from __future__ import annotations

import datetime
import time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import RedirectResponse, Response

from buildapi.db.queries import selfserve as queries
from buildapi.db.queries.jobrequests import JobFilter, get_job, list_jobs
from buildapi.db.queries.selfserve import BuildRow
from buildapi.errors import NotFound, Unauthenticated
from buildapi.layout import periodic_builders
from buildapi.selfserve import shapes
from buildapi.selfserve.auth import Identity
from buildapi.times import midnight, parse_day
from buildapi.web.auth import Reader
from buildapi.web.caching import cached
from buildapi.web.csrf import PLACEHOLDER, with_token
from buildapi.web.deps import AppState, State
from buildapi.web.negotiation import OutputFormat
from buildapi.web.params import MAX_ID, Id, Integer, checked_revision, known_branch
from buildapi.web.responses import BUILD_PAGE, render
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
    return render(request, fmt, data, title="Branches")


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
    if who is not None and not show:
        # Filtering would tell anonymous readers whether an address has made jobs.
        raise Unauthenticated("credentials required to filter jobs by who")
    where = JobFilter(who=who, action=action, branch=branch, state=job_state)
    with state.databases.buildapi_db.connect() as connection:
        rows = list_jobs(connection, num, offset, where)
    found = [shapes.job_object(row, show_who=show) for row in rows]
    return render(request, fmt, found, template="jobs.html", title="Job history")


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
    date: Annotated[str | None, Query(description="YYYY-MM-DD; default today")] = None,
    rev: Annotated[str | None, Query(description="jump to this revision's page")] = None,
) -> Response:
    chosen = known_branch(state, branch)
    if rev is not None:
        target = link(request, f"/self-serve/{branch}/rev/{checked_revision(rev.strip())}")
        return RedirectResponse(target, status_code=302)
    day, start, end = day_window(state, date)
    with state.databases.schedulerdb.connect() as connection:
        built, waiting = queries.builds_of_day(connection, chosen, start, end)
    items = shapes.job_list(built, waiting)
    return render(
        request,
        fmt,
        items,
        template="branch.html",
        title=f"Builds for {branch} on {day}",
        branch=branch,
        day=day,
        today=datetime.datetime.now(state.settings.zone).date(),
        timedelta=datetime.timedelta,
        tables=split_items(items),
        own_results=shapes.own_results(built),
        csrf_token=PLACEHOLDER,
    )


@router.get("/{branch}/build/{build_id}", summary="Return information about a build")
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
        request, fmt, data, template=BUILD_PAGE, title=f"Build {build_id}", own_result=own
    )


@router.get("/{branch}/builders", summary="Return a list of valid builders for this branch")
@cached(300)
def builders(request: Request, fmt: OutputFormat, state: State, branch: str) -> Response:
    known_branch(state, branch)
    names = sorted(state.layout.builders_for_branch(branch))
    return render(request, fmt, names, title=f"Builders of {branch}")


@router.get("/{branch}/request/{request_id}", summary="Return information about a request")
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
    return render(request, fmt, data, title=f"Request {request_id}")


def revision_jobs(
    state: AppState, branch: str, revision: str
) -> tuple[list[dict[str, Any]], list[BuildRow]]:
    """The revision's job list, and its build rows; 404 when it has none."""
    chosen = known_branch(state, branch)
    revision = checked_revision(revision)
    with state.databases.schedulerdb.connect() as connection:
        built, waiting = queries.builds_of_revision(connection, chosen, revision)
    items = shapes.job_list(built, waiting)
    if not items:
        raise NotFound(f"Revision {revision} not found on branch {branch}")
    return items, built


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
    stable_delay: StableDelay = 180,
) -> Response:
    items, built = revision_jobs(state, branch, revision)
    verdict = shapes.completeness(items, time.time(), stable_delay)
    return render(
        request,
        fmt,
        items,
        template="revision.html",
        title=f"Builds for {revision} on {branch}",
        branch=branch,
        revision=revision,
        verdict=verdict,
        tables=split_items(items),
        own_results=shapes.own_results(built),
        periodic={
            kind for kind in ("pgo", "nightly") if periodic_builders(state.layout, branch, kind)
        },
        csrf_token=PLACEHOLDER,
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
    items, _built = revision_jobs(state, branch, revision)
    data = shapes.completeness(items, time.time(), stable_delay)
    return render(request, fmt, data, title=f"Is {revision} done?")


@router.get("/{branch}/user/{user}", summary="Return a list of builds for this user")
@cached(60, live=True)
def user(request: Request, fmt: OutputFormat, state: State, branch: str, user: str) -> Response:
    chosen = known_branch(state, branch)
    with state.databases.schedulerdb.connect() as connection:
        built, waiting = queries.builds_of_author(connection, chosen, user, USER_LIMIT)
    objects = shapes.build_objects(built)
    data = {
        "builds": [b for b in objects if b["endtime"] is not None],
        "running": [b for b in objects if b["endtime"] is None],
        "pending": [shapes.request_object(row) for row in waiting],
    }
    return render(request, fmt, data, title=f"Builds of {user} on {branch}")


def split_items(items: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Pending requests, running builds and finished builds, for the three tables."""
    return {
        "pending": [item for item in items if "starttime" not in item],
        "running": [item for item in items if "starttime" in item and item["endtime"] is None],
        "builds": [item for item in items if item.get("endtime") is not None],
    }
