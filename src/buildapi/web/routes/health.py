"""/livez, /readyz and /healthz: is the process up, can it serve, is everything working.
Public, like the rest of the operations routes: a load balancer or Nagios sends no credentials."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from buildapi.probes import Check, Probed
from buildapi.web.deps import AppState, State
from buildapi.web.health import (
    Report,
    health_checks,
    health_report,
    readiness_checks,
    readiness_report,
)
from buildapi.web.negotiation import OutputFormat
from buildapi.web.responses import HEALTH_PAGE, PLAIN_PAGE, render

router = APIRouter()
DOWN = {503: {"description": "a part is down; `msg` names each one and why"}}


@router.get("/livez", summary="Whether the process answers (no check of anything else)")
async def livez(request: Request, fmt: OutputFormat) -> Response:
    return render(request, fmt, {"status": "OK"}, title="Live: OK")


@router.get(
    "/readyz",
    summary="Whether this web process can serve: its databases, the broker and the cache",
    responses=DOWN,
)
async def readyz(request: Request, fmt: OutputFormat, state: State) -> Response:
    probed = await _probe(state, readiness_checks(state))
    return _answer(request, fmt, "Ready", readiness_report(probed))


@router.get(
    "/healthz",
    summary="Whether every part works: databases, broker, cache and the agents seen recently",
    responses=DOWN,
)
async def healthz(request: Request, fmt: OutputFormat, state: State) -> Response:
    probed = await _probe(state, health_checks(state))
    return _answer(request, fmt, "Health", health_report(state, probed), HEALTH_PAGE)


async def _probe(state: AppState, checks: dict[str, Check]) -> dict[str, Probed]:
    timeout = state.settings.health_timeout_seconds
    return await run_in_threadpool(state.prober.probe, checks, timeout)


def _answer(
    request: Request, fmt: str, what: str, report: Report, template: str = PLAIN_PAGE
) -> Response:
    body = report.body
    title = f"{what}: {body['status']}"
    return render(request, fmt, body, template=template, title=title, status=report.status)
