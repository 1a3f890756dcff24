"""Self-serve writes: each one checked, recorded as a job request, handed to the agents, and
answered 202 with the job's id (HTML: 302 to the job's page). The checks, in order: 401
(credentials), 403 (the branch's groups), 400 (fields), 403 (priority above the user's
ceiling), 404 (branch), 400 (no nightly or PGO builders on the branch), 404 (build, request,
revision, builder), 403 (a request the user may not act on: selfserve/ownership.py), 409 (a
cancel of what is over, a reprioritize of what is not pending), 422 (an Idempotency-Key reused
for another request), 429 (the user's quota of write_rate_per_minute, where a rebuild weighs
its `count`). Whatever they refuse is neither recorded nor counted against the quota; what
changes between the checks and the agent (a build that finishes) the agent still answers."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from buildapi.config import PRIORITY_RANGE
from buildapi.db.queries import selfserve as queries
from buildapi.db.queries.jobrequests import NewJob
from buildapi.db.queries.live import BranchFilter, sourcestamps_of_revision
from buildapi.errors import BadInput, Conflict, NotFound
from buildapi.layout import FarmLayout, PeriodicKind, periodic_builders
from buildapi.parsing import json_field
from buildapi.selfserve.auth import Identity
from buildapi.selfserve.messages import SELFSERVE_SUFFIX
from buildapi.selfserve.ownership import Policy
from buildapi.web.auth import Actor
from buildapi.web.bodies import (
    COUNT_RANGE,
    AtPriority,
    BuildForBuilder,
    RebuildBuild,
    RebuildRequest,
    Reprioritize,
    request_body,
)
from buildapi.web.deps import AppState, State
from buildapi.web.forms import int_field, read_fields
from buildapi.web.negotiation import OutputFormat
from buildapi.web.params import MAX_ID, Id, checked_revision, known_branch
from buildapi.web.peers import peer_of
from buildapi.web.responses import json_response
from buildapi.web.urls import link

router = APIRouter(prefix="/self-serve", tags=["self-serve"])
audit = logging.getLogger("buildapi.audit")

MAX_IDEMPOTENCY_KEY = 200

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="a retry of the same request with the same key gets the first request's id"
        " back and counts once; the key reused for another request is a 422",
        json_schema_extra={"minLength": 1, "maxLength": MAX_IDEMPOTENCY_KEY},
    ),
]
Check = Callable[[Connection, BranchFilter], None]


def _priority(fields: dict[str, Any]) -> int:
    return int_field(fields, "priority", low=PRIORITY_RANGE[0], high=PRIORITY_RANGE[1], default=0)


def _count(fields: dict[str, Any]) -> int:
    return int_field(fields, "count", low=COUNT_RANGE[0], high=COUNT_RANGE[1], default=1)


@dataclass(frozen=True)
class Write:
    """What every write route works with, gathered by one dependency in the order the checks
    must run: credentials and the branch (401, 403) before the output format and the rest."""

    request: Request
    who: Identity
    fmt: str
    state: AppState
    branch: str
    idempotency_key: str | None

    @property
    def policy(self) -> Policy:
        return Policy.from_settings(self.state.settings)

    async def fields(self) -> dict[str, Any]:
        return await read_fields(self.request, self.state.settings.write_max_body_bytes)

    def check_priority(self, args: dict[str, Any]) -> None:
        """403 when the priority asked for is above the user's ceiling."""
        if "priority" in args:
            self.policy.check_priority(self.who, args["priority"])

    async def accept(
        self, action: str, args: dict[str, Any], check: Check | None = None, weight: int = 1
    ) -> Response:
        """The checks after 400, then record within the rate limit (422, 429) and publish;
        answer the job id. `weight` is what the request costs of the limit."""
        key, state, who = self.idempotency_key, self.state, self.who
        if key is not None and not 0 < len(key) <= MAX_IDEMPOTENCY_KEY:
            raise BadInput(f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} characters")
        self.check_priority(args)
        limit = state.settings.write_rate_per_minute
        if weight > limit:
            # Never allowed, however long the client waits: a 429 would invite retries.
            raise BadInput(f"count {weight} is over the limit of {limit} builds a minute")
        chosen = known_branch(state, self.branch)
        if check is not None:
            await run_in_threadpool(_run_check, state, check, chosen)
        job = NewJob(action, who.user, self.branch, args, int(time.time()), key, weight)
        job_id = await run_in_threadpool(state.pipeline.submit, job)
        peer = peer_of(self.request, state.settings)
        audit.info(
            "job %d: %s on %s by %s (%s) from %s: %s",
            job_id,
            action,
            self.branch,
            who.user,
            who.how,
            peer.describe(),
            args,
        )
        if self.fmt == "html":
            target = link(self.request, f"/self-serve/jobs/{job_id}")
            return RedirectResponse(target, status_code=302)
        msg = f"{action} request recorded as job {job_id}"
        return json_response({"status": "OK", "msg": msg, "request_id": job_id}, status=202)


async def write(
    request: Request,
    who: Actor,
    fmt: OutputFormat,
    state: State,
    branch: str,
    key: IdempotencyKey = None,
) -> Write:
    return Write(request, who, fmt, state, branch, key)


Writing = Annotated[Write, Depends(write)]


def _run_check(state: AppState, check: Check, branch: BranchFilter) -> None:
    with state.databases.schedulerdb.connect() as connection:
        check(connection, branch)


def _all(*checks: Check | None) -> Check:
    """The checks given, in order; None stands for a check that does not apply."""

    def check(connection: Connection, branch: BranchFilter) -> None:
        for each in checks:
            if each is not None:
                each(connection, branch)

    return check


def _refuse_unless(state: str, allowed: tuple[str, ...], verb: str, what: str) -> None:
    """409 when `what` is in a state the action `verb` does not take."""
    if state not in allowed:
        raise Conflict(f"Cannot {verb} {what}: it is {state}, not {' or '.join(allowed)}")


def _build_exists(build_id: int, acting: Write | None = None) -> Check:
    """404 for an unknown build; with `acting` (a cancel), 403 unless its user may cancel its
    request, then 409 when it is over."""

    def check(connection: Connection, branch: BranchFilter) -> None:
        row = queries.build_by_id(connection, branch, build_id)
        if row is None:
            raise NotFound(f"Build {build_id} not found on branch {branch.name}")
        if acting is not None:
            verb = f"cancel build {build_id} of"
            acting.policy.check_request(connection, acting.who, verb, row.request.id, branch.name)
            state = "complete" if row.over else "running"
            _refuse_unless(state, ("running",), "cancel", f"build {build_id}")

    return check


def _request_state(row: queries.RequestRow) -> str:
    if row.complete:
        return "complete"
    return "running" if row.claimed_at else "pending"


def _request_exists(
    request_id: int, acting: Write | None = None, verb: str = "", allowed: tuple[str, ...] = ()
) -> Check:
    """404 for an unknown request; with `acting`, 403 unless its user may `verb` it, then 409
    unless its state is one of `allowed` (any state when empty)."""

    def check(connection: Connection, branch: BranchFilter) -> None:
        row = queries.request_by_id(connection, branch, request_id)
        if row is None:
            raise NotFound(f"Request {request_id} not found on branch {branch.name}")
        if acting is not None:
            acting.policy.check_request(connection, acting.who, verb, request_id, branch.name)
        if allowed:
            _refuse_unless(_request_state(row), allowed, verb, f"request {request_id}")

    return check


def _revision_exists(revision: str, acting: Write | None = None) -> Check:
    """404 for an unknown revision; with `acting` (a cancel), 403 unless its user may cancel
    all its incomplete requests."""

    def check(connection: Connection, branch: BranchFilter) -> None:
        if not sourcestamps_of_revision(connection, branch, revision):
            raise NotFound(f"Revision {revision} not found on branch {branch.name}")
        if acting is not None:
            acting.policy.check_revision(connection, acting.who, branch, revision)

    return check


def _new_builds_at(w: Write, revision: str) -> Check | None:
    """New builds are of a revision the branch knows, unless the settings accept any."""
    return None if w.state.settings.write_allow_unknown_revisions else _revision_exists(revision)


def _has_builders(layout: FarmLayout, kind: PeriodicKind, what: str) -> Check:
    """400 when the branch has no `kind` builders: the agent would start nothing."""

    def check(_connection: Connection, branch: BranchFilter) -> None:
        if not periodic_builders(layout, branch.name, kind):
            raise BadInput(f"Branch {branch.name} has no {what} builders")

    return check


@router.post(
    "/{branch}/build",
    summary="Rebuild `build_id`, `count` times (1-100), at `priority`",
    status_code=202,
    openapi_extra=request_body(RebuildBuild),
)
async def rebuild_build(w: Writing) -> Response:
    fields = await w.fields()
    build_id = int_field(fields, "build_id", low=0, high=MAX_ID)
    args = {"bid": build_id, "count": _count(fields), "priority": _priority(fields)}
    return await w.accept("rebuild_build", args, _build_exists(build_id), args["count"])


@router.delete("/{branch}/build/{build_id}", summary="Cancel the build `build_id`", status_code=202)
async def cancel_build(w: Writing, build_id: Id) -> Response:
    return await w.accept("cancel_build", {"bid": build_id}, _build_exists(build_id, w))


@router.post(
    "/{branch}/request",
    summary="Rebuild the request `request_id`, `count` times (1-100), at `priority`",
    status_code=202,
    openapi_extra=request_body(RebuildRequest),
)
async def rebuild_request(w: Writing) -> Response:
    fields = await w.fields()
    request_id = int_field(fields, "request_id", low=0, high=MAX_ID)
    args = {"brid": request_id, "count": _count(fields), "priority": _priority(fields)}
    return await w.accept("rebuild_request", args, _request_exists(request_id), args["count"])


@router.delete(
    "/{branch}/request/{request_id}", summary="Cancel the request `request_id`", status_code=202
)
async def cancel_request(w: Writing, request_id: Id) -> Response:
    check = _request_exists(request_id, w, "cancel", allowed=("pending", "running"))
    return await w.accept("cancel_request", {"brid": request_id}, check)


@router.put(
    "/{branch}/request/{request_id}",
    summary="Change the priority of the pending request `request_id` to `priority`",
    status_code=202,
    openapi_extra=request_body(Reprioritize),
)
async def reprioritize(w: Writing, request_id: Id) -> Response:
    fields = await w.fields()
    priority = int_field(fields, "priority", low=PRIORITY_RANGE[0], high=PRIORITY_RANGE[1])
    args = {"brid": request_id, "priority": priority}
    check = _request_exists(request_id, w, "reprioritize", allowed=("pending",))
    return await w.accept("reprioritize", args, check)


@router.delete(
    "/{branch}/rev/{revision}",
    summary="Cancel every pending and running job of `revision`",
    status_code=202,
)
async def cancel_revision(w: Writing, revision: str) -> Response:
    revision = checked_revision(revision)
    args = {"branch": w.branch, "revision": revision}
    return await w.accept("cancel_revision", args, _revision_exists(revision, w))


@router.post(
    "/{branch}/rev/{revision}",
    summary="Start the builds of `revision`, as if it had just been pushed",
    status_code=202,
)
async def new_build_at_revision(w: Writing, revision: str) -> Response:
    revision = checked_revision(revision)
    args = {"branch": w.branch, "revision": revision}
    return await w.accept("new_build_at_revision", args, _new_builds_at(w, revision))


def _builds_at_revision_route(kind: PeriodicKind, action: str, what: str) -> None:
    """The nightly and PGO routes: the same fields, another action."""

    @router.post(
        f"/{{branch}}/rev/{{revision}}/{kind}",
        summary=f"Start the {what} builds of `revision`, at `priority`",
        status_code=202,
        openapi_extra=request_body(AtPriority),
        name=action,
    )
    async def endpoint(w: Writing, revision: str) -> Response:
        fields = await w.fields()
        revision = checked_revision(revision)
        args = {"branch": w.branch, "revision": revision, "priority": _priority(fields)}
        check = _all(_has_builders(w.state.layout, kind, what), _new_builds_at(w, revision))
        return await w.accept(action, args, check)


_builds_at_revision_route("nightly", "new_nightly_at_revision", "nightly")
_builds_at_revision_route("pgo", "new_pgobuild_at_revision", "PGO")


@router.post(
    "/{branch}/builders/{builder_name}/{revision}",
    summary="Start `builder_name` at `revision` with `properties` (object) and `files` (list)",
    status_code=202,
    openapi_extra=request_body(BuildForBuilder),
)
async def new_build_for_builder(
    w: Writing, builder_name: Annotated[str, Path(max_length=256)], revision: str
) -> Response:
    fields = await w.fields()
    revision = checked_revision(revision)
    properties = json_field(fields, "properties", dict, {})
    files = json_field(fields, "files", list, [])
    if not all(isinstance(name, str) for name in files):
        raise BadInput("files must be a JSON list of strings")
    args = {
        "branch": w.branch + SELFSERVE_SUFFIX,
        "revision": revision,
        "priority": _priority(fields),
        "builder_name": builder_name,
        "properties": properties,
        "files": files,
    }
    w.check_priority(args)
    known_branch(w.state, w.branch)
    if builder_name not in w.state.layout.builders_for_branch(w.branch):
        raise NotFound(f"Builder {builder_name!r} not found on branch {w.branch}")
    return await w.accept("new_build_for_builder", args)
