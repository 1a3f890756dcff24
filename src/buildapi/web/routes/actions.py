"""Self-serve writes: each one checked (401, 403, 400, 404, 409, 429, in that order), recorded
as a job request, handed to the agents, and answered 202 with the job's id (HTML: 302 to the
job's page)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request
from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from buildapi.agent.actions import SELFSERVE_SUFFIX
from buildapi.db.queries import selfserve as queries
from buildapi.db.queries.jobrequests import NewJob, nth_newest_write
from buildapi.db.queries.live import BranchFilter, sourcestamps_of_revision
from buildapi.errors import BadInput, Conflict, NotFound, RateLimited, Unavailable
from buildapi.parsing import json_field
from buildapi.selfserve.auth import Identity
from buildapi.selfserve.jobs import UNRECORDABLE
from buildapi.web.auth import Actor
from buildapi.web.deps import AppState, State
from buildapi.web.forms import int_field, read_fields
from buildapi.web.negotiation import OutputFormat
from buildapi.web.params import checked_revision, known_branch
from buildapi.web.responses import json_response
from buildapi.web.routes.selfserve import MAX_ID, Id
from buildapi.web.urls import link

router = APIRouter(prefix="/self-serve", tags=["self-serve"])
audit = logging.getLogger("buildapi.audit")

PRIORITY_RANGE = (-1000, 1000)
COUNT_RANGE = (1, 100)
MAX_IDEMPOTENCY_KEY = 200
RATE_WINDOW_SECONDS = 60

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="a retry with the same key gets the first request's id back",
    ),
]
Check = Callable[[Connection, BranchFilter], None]

FIELDS_DOC = {
    "requestBody": {
        "description": "form-encoded or JSON fields",
        "content": {
            "application/x-www-form-urlencoded": {"schema": {"type": "object"}},
            "application/json": {"schema": {"type": "object"}},
        },
    }
}


def _priority(fields: dict[str, Any]) -> int:
    return int_field(fields, "priority", low=PRIORITY_RANGE[0], high=PRIORITY_RANGE[1], default=0)


def _count(fields: dict[str, Any]) -> int:
    return int_field(fields, "count", low=COUNT_RANGE[0], high=COUNT_RANGE[1], default=1)


async def _accept(
    request: Request,
    fmt: str,
    state: AppState,
    who: Identity,
    branch: str,
    action: str,
    args: dict[str, Any],
    idempotency_key: str | None,
    check: Check | None = None,
) -> Response:
    """404 and 409 checks, the rate limit, then record and publish; answer with the job id."""
    if idempotency_key is not None and not 0 < len(idempotency_key) <= MAX_IDEMPOTENCY_KEY:
        raise BadInput(f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} characters")
    chosen = known_branch(state, branch)
    if check is not None:
        await run_in_threadpool(_run_check, state, check, chosen)
    now = int(time.time())
    job = NewJob(action, who.user, branch, args, now, idempotency_key)
    if idempotency_key is None:
        await run_in_threadpool(_check_rate, state, who.user, now)
    job_id = await run_in_threadpool(state.pipeline.submit, job)
    client = request.client.host if request.client else "-"
    audit.info(
        "job %d: %s on %s by %s (%s) from %s: %s",
        job_id,
        action,
        branch,
        who.user,
        who.how,
        client,
        args,
    )
    if fmt == "html":
        return RedirectResponse(link(request, f"/self-serve/jobs/{job_id}"), status_code=302)
    body = {
        "status": "OK",
        "msg": f"{action} request recorded as job {job_id}",
        "request_id": job_id,
    }
    return json_response(body, status=202)


def _run_check(state: AppState, check: Check, branch: BranchFilter) -> None:
    with state.databases.schedulerdb.connect() as connection:
        check(connection, branch)


def _check_rate(state: AppState, who: str, now: int) -> None:
    limit = state.settings.write_rate_per_minute
    try:
        with state.databases.buildapi_db.connect() as connection:
            oldest = nth_newest_write(connection, who, now - RATE_WINDOW_SECONDS + 1, limit)
    except SQLAlchemyError as exc:
        raise Unavailable(UNRECORDABLE) from exc
    if oldest is not None:
        retry_after = max(1, oldest + RATE_WINDOW_SECONDS - now)
        raise RateLimited(
            f"{who} made {limit} requests in the last minute; the limit is {limit}", retry_after
        )


def _build_exists(build_id: int) -> Check:
    def check(connection: Connection, branch: BranchFilter) -> None:
        if queries.build_by_id(connection, branch, build_id) is None:
            raise NotFound(f"Build {build_id} not found on branch {branch.name}")

    return check


def _request_exists(request_id: int, pending_only: bool = False) -> Check:
    def check(connection: Connection, branch: BranchFilter) -> None:
        row = queries.request_by_id(connection, branch, request_id)
        if row is None:
            raise NotFound(f"Request {request_id} not found on branch {branch.name}")
        if pending_only and (row.complete or row.claimed_at):
            state = "complete" if row.complete else "running"
            raise Conflict(
                f"Request {request_id} is {state}; only a pending request can change priority"
            )

    return check


def _revision_exists(revision: str) -> Check:
    def check(connection: Connection, branch: BranchFilter) -> None:
        if not sourcestamps_of_revision(connection, branch, revision):
            raise NotFound(f"Revision {revision} not found on branch {branch.name}")

    return check


@router.post(
    "/{branch}/build",
    summary="Rebuild `build_id`, `count` times (1-100), at `priority`",
    status_code=202,
    openapi_extra=FIELDS_DOC,
)
async def rebuild_build(
    request: Request,
    who: Actor,
    fmt: OutputFormat,
    state: State,
    branch: str,
    key: IdempotencyKey = None,
) -> Response:
    fields = await read_fields(request, state.settings.write_max_body_bytes)
    build_id = int_field(fields, "build_id", low=0, high=MAX_ID)
    args = {"bid": build_id, "count": _count(fields), "priority": _priority(fields)}
    return await _accept(
        request, fmt, state, who, branch, "rebuild_build", args, key, _build_exists(build_id)
    )


@router.delete("/{branch}/build/{build_id}", summary="Cancel the build `build_id`", status_code=202)
async def cancel_build(
    request: Request,
    who: Actor,
    fmt: OutputFormat,
    state: State,
    branch: str,
    build_id: Id,
    key: IdempotencyKey = None,
) -> Response:
    return await _accept(
        request,
        fmt,
        state,
        who,
        branch,
        "cancel_build",
        {"bid": build_id},
        key,
        _build_exists(build_id),
    )


@router.post(
    "/{branch}/request",
    summary="Rebuild the request `request_id`, `count` times (1-100), at `priority`",
    status_code=202,
    openapi_extra=FIELDS_DOC,
)
async def rebuild_request(
    request: Request,
    who: Actor,
    fmt: OutputFormat,
    state: State,
    branch: str,
    key: IdempotencyKey = None,
) -> Response:
    fields = await read_fields(request, state.settings.write_max_body_bytes)
    request_id = int_field(fields, "request_id", low=0, high=MAX_ID)
    args = {"brid": request_id, "count": _count(fields), "priority": _priority(fields)}
    return await _accept(
        request, fmt, state, who, branch, "rebuild_request", args, key, _request_exists(request_id)
    )


@router.delete(
    "/{branch}/request/{request_id}", summary="Cancel the request `request_id`", status_code=202
)
async def cancel_request(
    request: Request,
    who: Actor,
    fmt: OutputFormat,
    state: State,
    branch: str,
    request_id: Id,
    key: IdempotencyKey = None,
) -> Response:
    args = {"brid": request_id}
    return await _accept(
        request, fmt, state, who, branch, "cancel_request", args, key, _request_exists(request_id)
    )


@router.put(
    "/{branch}/request/{request_id}",
    summary="Change the priority of the pending request `request_id` to `priority`",
    status_code=202,
    openapi_extra=FIELDS_DOC,
)
async def reprioritize(
    request: Request,
    who: Actor,
    fmt: OutputFormat,
    state: State,
    branch: str,
    request_id: Id,
    key: IdempotencyKey = None,
) -> Response:
    fields = await read_fields(request, state.settings.write_max_body_bytes)
    priority = int_field(fields, "priority", low=PRIORITY_RANGE[0], high=PRIORITY_RANGE[1])
    args = {"brid": request_id, "priority": priority}
    check = _request_exists(request_id, pending_only=True)
    return await _accept(request, fmt, state, who, branch, "reprioritize", args, key, check)


@router.delete(
    "/{branch}/rev/{revision}",
    summary="Cancel every pending and running job of `revision`",
    status_code=202,
)
async def cancel_revision(
    request: Request,
    who: Actor,
    fmt: OutputFormat,
    state: State,
    branch: str,
    revision: str,
    key: IdempotencyKey = None,
) -> Response:
    revision = checked_revision(revision)
    args = {"branch": branch, "revision": revision}
    return await _accept(
        request, fmt, state, who, branch, "cancel_revision", args, key, _revision_exists(revision)
    )


@router.post(
    "/{branch}/rev/{revision}",
    summary="Start the builds of `revision`, as if it had just been pushed",
    status_code=202,
)
async def new_build_at_revision(
    request: Request,
    who: Actor,
    fmt: OutputFormat,
    state: State,
    branch: str,
    revision: str,
    key: IdempotencyKey = None,
) -> Response:
    revision = checked_revision(revision)
    args = {"branch": branch, "revision": revision}
    return await _accept(request, fmt, state, who, branch, "new_build_at_revision", args, key)


def _builds_at_revision_route(kind: str, action: str, what: str) -> None:
    """The nightly and PGO routes: the same fields, another action."""

    @router.post(
        f"/{{branch}}/rev/{{revision}}/{kind}",
        summary=f"Start the {what} builds of `revision`, at `priority`",
        status_code=202,
        openapi_extra=FIELDS_DOC,
        name=action,
    )
    async def endpoint(
        request: Request,
        who: Actor,
        fmt: OutputFormat,
        state: State,
        branch: str,
        revision: str,
        key: IdempotencyKey = None,
    ) -> Response:
        fields = await read_fields(request, state.settings.write_max_body_bytes)
        args = {
            "branch": branch,
            "revision": checked_revision(revision),
            "priority": _priority(fields),
        }
        return await _accept(request, fmt, state, who, branch, action, args, key)


_builds_at_revision_route("nightly", "new_nightly_at_revision", "nightly")
_builds_at_revision_route("pgo", "new_pgobuild_at_revision", "PGO")


@router.post(
    "/{branch}/builders/{builder_name}/{revision}",
    summary="Start `builder_name` at `revision` with `properties` (object) and `files` (list)",
    status_code=202,
    openapi_extra=FIELDS_DOC,
)
async def new_build_for_builder(
    request: Request,
    who: Actor,
    fmt: OutputFormat,
    state: State,
    branch: str,
    builder_name: Annotated[str, Path(max_length=256)],
    revision: str,
    key: IdempotencyKey = None,
) -> Response:
    fields = await read_fields(request, state.settings.write_max_body_bytes)
    revision = checked_revision(revision)
    properties = json_field(fields, "properties", dict, {})
    files = json_field(fields, "files", list, [])
    if not all(isinstance(name, str) for name in files):
        raise BadInput("files must be a JSON list of strings")
    args = {
        "branch": branch + SELFSERVE_SUFFIX,
        "revision": revision,
        "priority": _priority(fields),
        "builder_name": builder_name,
        "properties": properties,
        "files": files,
    }
    known_branch(state, branch)
    if builder_name not in state.layout.builders_for_branch(branch):
        raise NotFound(f"Builder {builder_name!r} not found on branch {branch}")
    return await _accept(request, fmt, state, who, branch, "new_build_for_builder", args, key)
