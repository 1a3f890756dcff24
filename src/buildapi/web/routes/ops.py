"""Operations: the landing page, the favicon and the metrics; health.py has the health checks."""

from __future__ import annotations

from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, Response

from buildapi.metrics import process_registry
from buildapi.web.deps import AppState, State
from buildapi.web.negotiation import OutputFormat
from buildapi.web.responses import STATIC_DIR, render
from buildapi.web.scraped import Readings
from buildapi.web.sections import served_sections

router = APIRouter()


@router.get("/", summary="Landing page linking every part of BuildAPI")
async def landing(request: Request, fmt: OutputFormat, state: State) -> Response:
    sections = served_sections(request.app.router.routes)
    layout = state.layout
    summary = {
        "branches": sorted(layout.branches),
        "masters": len(layout.masters),
        "builders": len(layout.builders),
        "links": {section.title: section.path for section in sections},
    }
    return render(request, fmt, summary, template="index.html", title="BuildAPI", sections=sections)


@router.get("/favicon.ico", include_in_schema=False)
async def favicon() -> Response:
    """Browsers ask for it even on JSON pages."""
    return FileResponse(STATIC_DIR / "favicon.svg", media_type="image/svg+xml")


@router.get(
    "/metrics",
    summary="Prometheus metrics: requests, job requests, agents, queues and pools",
)
async def metrics(state: State) -> Response:
    return Response(await run_in_threadpool(_exposition, state), media_type=CONTENT_TYPE_LATEST)


def _exposition(state: AppState) -> bytes:
    """What the processes observed (every process's, with a shared multiprocess directory),
    then what the databases and the broker say now."""
    readings = CollectorRegistry(auto_describe=False)
    readings.register(Readings.of(state))
    return generate_latest(process_registry()) + generate_latest(readings)
