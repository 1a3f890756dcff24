"""Operations: the landing page, the favicon and the metrics; health.py has the health checks."""

from __future__ import annotations

from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, Response

from buildapi.db.queries.jobrequests import COMPLETE, PUBLISHED, RECORDED, count_by_state
from buildapi.web.deps import AppState, State
from buildapi.web.negotiation import OutputFormat
from buildapi.web.responses import STATIC_DIR, render
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


@router.get("/metrics", summary="Prometheus metrics: job requests by state, broker queues")
async def metrics(state: State) -> Response:
    registry = await run_in_threadpool(_collect, state)
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def _collect(state: AppState) -> CollectorRegistry:
    """Read at scrape time: the numbers live in the database and the broker, shared by every
    web worker, so no process keeps counters of its own."""
    registry = CollectorRegistry()
    jobs = Gauge(
        "buildapi_jobrequests", "Job requests by pipeline state", ["state"], registry=registry
    )
    try:
        with state.databases.buildapi_db.connect() as connection:
            counts = count_by_state(connection)
    except SQLAlchemyError:
        counts = None
    Gauge("buildapi_db_up", "Whether the buildapi database answered", registry=registry).set(
        counts is not None
    )
    for name in (RECORDED, PUBLISHED, COMPLETE):
        jobs.labels(state=name).set((counts or {}).get(name, 0))
    queues = Gauge(
        "buildapi_broker_queue_messages",
        "Messages waiting in each queue (dead: messages no agent understood)",
        ["queue"],
        registry=registry,
    )
    broker = state.pipeline.broker
    try:
        for key, depth in broker.queue_depths().items():
            queues.labels(queue=key).set(depth)
        up = True
    except Exception:  # whatever the transport raises, the broker is down for us
        up = False
    Gauge("buildapi_broker_up", "Whether the broker answered", registry=registry).set(up)
    return registry
