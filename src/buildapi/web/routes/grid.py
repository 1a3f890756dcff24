"""The per-push grid of a branch: pushes as rows, platforms as column groups, a cell per job,
with the self-serve actions on each; and its short alias."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from starlette.responses import RedirectResponse, Response

from buildapi.db.queries.grid import grid_rows, push_rows
from buildapi.selfserve import grid
from buildapi.web.csrf import PLACEHOLDER, with_token
from buildapi.web.deps import State
from buildapi.web.negotiation import OutputFormat
from buildapi.web.params import MAX_ID, Integer, known_branch
from buildapi.web.responses import render
from buildapi.web.urls import link

router = APIRouter(tags=["self-serve"])

EVENTS_PATH = "/events"
Filter = Annotated[str | None, Query(max_length=200)]


@router.get("/self-serve/{branch}/pushes", summary="The branch's pushes and their jobs, as a grid")
@with_token
def pushes(
    request: Request,
    fmt: OutputFormat,
    state: State,
    branch: str,
    before: Annotated[
        Integer | None, Query(ge=1, le=MAX_ID, description="pushes older than this push_id")
    ] = None,
    num: Annotated[Integer, Query(ge=1, le=100, description="pushes per page")] = 20,
    builder: Annotated[Filter, Query(description="part of the builder name, any case")] = None,
    platform: Filter = None,
    result: Annotated[Filter, Query(description="a code 0-6 or its name")] = None,
    job_state: Annotated[
        Filter, Query(alias="state", description="pending, running or finished")
    ] = None,
    author: Annotated[Filter, Query(description="part of the pusher's address")] = None,
) -> Response:
    chosen = known_branch(state, branch)
    wanted = grid.GridFilter(
        builder=builder or None,
        platform=platform or None,
        result=grid.parse_result(result),
        state=grid.parse_state(job_state),
        author=author or None,
    )
    with state.databases.schedulerdb.connect() as connection:
        found = push_rows(connection, chosen, num + 1, before, wanted.author)
        page, more = found[:num], len(found) > num
        rows = grid_rows(connection, chosen, [push.revision for push in page])
    shown = grid.grid_pushes(page, rows, state.layout.builders, branch, wanted)
    data = {
        "branch": branch,
        "platforms": grid.platforms_of(shown),
        "pushes": shown,
        "older": page[-1].push_id if more else None,
    }
    return render(
        request,
        fmt,
        data,
        template="grid.html",
        title=f"Pushes to {branch}",
        branch=branch,
        filters=_filter_fields(request),
        older_href=_older_href(request, data["older"]),
        events=link(request, EVENTS_PATH) if _serves(request, EVENTS_PATH) else "",
        csrf_token=PLACEHOLDER,
    )


# A short name for people to type; the API description lists the page itself.
@router.get("/grid/{branch}", include_in_schema=False)
def grid_alias(request: Request, state: State, branch: str) -> Response:
    known_branch(state, branch)
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(link(request, f"/self-serve/{branch}/pushes") + query, 302)


def _filter_fields(request: Request) -> dict[str, Any]:
    """The filters as the page's form shows them back."""
    names = ("builder", "platform", "result", "state", "author", "num")
    return {name: request.query_params.get(name, "") for name in names}


def _older_href(request: Request, older: int | None) -> str | None:
    """The next page's query: the same filters, pushes older than the last one shown."""
    if older is None:
        return None
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in ("before", "format")]
    return "?" + urlencode([*kept, ("before", str(older))])


def _serves(request: Request, path: str) -> bool:
    """Whether this app has a route at `path` (the event stream may not be installed)."""
    return any(getattr(route, "path", None) == path for route in request.app.router.routes)
