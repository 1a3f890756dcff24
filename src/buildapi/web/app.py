"""create_app: the single list of routers, middleware and error handlers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import Depends, FastAPI
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from buildapi import __version__
from buildapi.cache import make_cache
from buildapi.config import Settings
from buildapi.db.engines import Databases
from buildapi.db.queries.jobrequests import Sending
from buildapi.events.feed import FarmFeed
from buildapi.events.hub import EventHub, run_feed
from buildapi.layout import FarmLayout
from buildapi.secret import server_secret
from buildapi.selfserve.auth import Htpasswd
from buildapi.selfserve.broker import Broker
from buildapi.selfserve.jobs import JobPipeline
from buildapi.web.auth import reader
from buildapi.web.deps import AppState
from buildapi.web.errors import install_error_handlers
from buildapi.web.instrument import MountLabel, RequestObserver, RouteRecorder
from buildapi.web.negotiation import (
    HeadMiddleware,
    MethodOverrideMiddleware,
    TrailingSlashMiddleware,
)
from buildapi.web.openapi import install_openapi
from buildapi.web.responses import STATIC_DIR, make_templates
from buildapi.web.routes import (
    actions,
    dumps,
    events,
    grid,
    health,
    live,
    ops,
    reports,
    search,
    selfserve,
)
from buildapi.web.sections import served_sections
from buildapi.web.shutdown import on_stop_signal
from buildapi.web.vendor import CHART_JS_DIR, CHART_JS_MOUNT

log = logging.getLogger(__name__)

# Routers and whether they are reads (public unless `read_requires_auth`; credentials that are
# sent must be good). The write routes check credentials themselves.
ROUTERS = (
    (ops.router, False),
    (health.router, False),
    (live.router, True),
    (events.router, True),
    (dumps.router, True),
    (selfserve.router, True),
    (search.router, True),
    (grid.router, True),
    (reports.router, True),
    (actions.router, False),
)


def create_api(settings: Settings, databases: Databases, layout: FarmLayout) -> FastAPI:
    """The FastAPI application, without the mount prefix."""

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        refresher = asyncio.create_task(_refresh_layout(layout))
        stopping = asyncio.Event()
        feed = asyncio.create_task(
            run_feed(state.feed.poll, hub, settings.events_poll_seconds, stopping)
        )
        pipeline.start()
        try:
            with on_stop_signal(hub.close):
                yield
        finally:
            hub.close()
            stopping.set()
            refresher.cancel()
            await feed
            await run_in_threadpool(pipeline.stop)

    api = FastAPI(
        title="BuildAPI",
        version=__version__,
        description="Live views, reports and self-serve actions for a Buildbot-style farm.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        redirect_slashes=False,
    )
    cache = make_cache(settings.cache_url, shared_epoch_file(settings))
    pipeline = JobPipeline(
        databases,
        Broker(settings),
        settings.outbox_every_seconds,
        Sending(settings.jobs_resend_after_seconds, settings.jobs_max_sends),
        settings.write_rate_per_minute,
        before_answer=cache.advance_epoch,
    )
    hub = EventHub(keep=settings.events_kept)
    state = AppState(
        settings=settings,
        databases=databases,
        layout=layout,
        cache=cache,
        pipeline=pipeline,
        htpasswd=Htpasswd(settings.auth_htpasswd_file) if settings.auth_htpasswd_file else None,
        secret=server_secret(settings),
        feed=FarmFeed(databases, lambda: list(layout.branches)),
        hub=hub,
    )
    api.state.buildapi = state
    api.state.templates = make_templates(settings.zone, layout)
    install_error_handlers(api)
    install_openapi(api)
    for router, is_read in ROUTERS:
        api.include_router(router, dependencies=[Depends(reader)] if is_read else [])
    static = StaticFiles(directory=STATIC_DIR)
    chart_js = StaticFiles(directory=CHART_JS_DIR, check_dir=False)
    api.mount("/static", MountLabel(static, "/static"), name="static")
    api.mount(CHART_JS_MOUNT, MountLabel(chart_js, CHART_JS_MOUNT), name="chart.js")
    api.state.templates.env.globals["nav"] = [
        section for section in served_sections(api.router.routes) if section.in_header
    ]
    api.add_middleware(RouteRecorder)  # the innermost: added first
    api.add_middleware(MethodOverrideMiddleware)
    api.add_middleware(HeadMiddleware)
    return api


def create_app(settings: Settings, databases: Databases, layout: FarmLayout) -> ASGIApp:
    """The ASGI app to serve: the API under `mount_prefix`, with trailing slashes redirected,
    every request observed (web/instrument.py)."""
    api = create_api(settings, databases, layout)
    prefix = settings.mount_prefix
    if not prefix:
        return RequestObserver(TrailingSlashMiddleware(api), settings)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with api.router.lifespan_context(api):
            yield

    outer = Starlette(routes=[Mount(prefix, app=api)], lifespan=lifespan)
    return RequestObserver(TrailingSlashMiddleware(outer, prefix), settings)


def shared_epoch_file(settings: Settings) -> Path | None:
    """Workers with caches of their own share the epoch through a file of the data directory;
    a Redis cache keeps it itself, and one process needs no file."""
    if settings.cache_url or settings.web_workers < 2:
        return None
    return settings.data_dir / "cache-epoch"


async def _refresh_layout(layout: FarmLayout) -> None:
    """Fetch the layout documents again every `refresh_seconds`; failures keep the old copy."""
    while True:
        await asyncio.sleep(layout.refresh_seconds)
        try:
            await run_in_threadpool(layout.refresh)
        except Exception:
            log.exception("farm layout refresh failed; keeping the last good copy")
