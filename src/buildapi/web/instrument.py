"""Every request observed once, outside everything else: given a request id (a trusted
proxy's `X-Request-ID`, else a new one) that the response echoes, timed into the latency
histogram by route template and status, and logged in one structured line.

The route template is known only once the router has chosen a route, deep inside the app and
past middleware that copy the scope; RouteRecorder, the innermost middleware, writes it into
the request's state, which every copy shares."""

from __future__ import annotations

import logging
import re
import time
import uuid

from prometheus_client import Gauge, Histogram
from starlette.requests import HTTPConnection
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from buildapi.config import Settings
from buildapi.logs import REQUEST_ID
from buildapi.metrics import bounded
from buildapi.web.peers import peer_of

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "x-request-id"
UNMATCHED = "unmatched"
ROUTE_KEY = "route_template"
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
# What a proxy's request id may look like (nginx's $request_id is 32 hex digits): anything
# else is not logged or echoed, whoever sent it.
_PROXY_REQUEST_ID = re.compile(r"[A-Za-z0-9._:+=/-]{1,128}")

REQUEST_SECONDS = Histogram(
    "buildapi_http_request_duration_seconds",
    "Time to answer a request, by method, route template (or unmatched) and status code",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
IN_PROGRESS = Gauge(
    "buildapi_http_requests_in_progress",
    "Requests being answered now, over the running web processes",
    multiprocess_mode="livesum",
)


def request_id_for(sent: str | None, trusted_peer: bool) -> str:
    """The id a trusted proxy gave the request, so its log and ours agree; a new one when the
    peer is not a trusted proxy (a client's word proves nothing) or sent none that fits."""
    if trusted_peer and sent and _PROXY_REQUEST_ID.fullmatch(sent):
        return sent
    return uuid.uuid4().hex


def template_of(route: object) -> str:
    """A route's path template, relative to the mount prefix; a mount's covers its files."""
    if isinstance(route, Mount):
        return f"{route.path}/{{path}}"
    return str(getattr(route, "path_format", UNMATCHED))


class RouteRecorder:
    """Innermost: after the router has run, the template of the route it chose, if any."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        outer = scope.get("route")  # an outer router's choice (the mount prefix), if any
        try:
            await self.app(scope, receive, send)
        finally:
            route = scope.get("route")
            if route is not None and route is not outer and "state" in scope:
                scope["state"][ROUTE_KEY] = template_of(route)


class MountLabel:
    """Names the template of an app mounted at `path`, whose requests the router gives no
    route of their own."""

    def __init__(self, app: ASGIApp, path: str) -> None:
        self.app = app
        self.template = f"{path}/{{path}}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if "state" in scope:
            scope["state"][ROUTE_KEY] = self.template
        await self.app(scope, receive, send)


class RequestObserver:
    """Outermost: the request id, the latency histogram and the request's log line."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        connection = HTTPConnection(scope)
        peer = peer_of(connection, self.settings)
        request_id = request_id_for(connection.headers.get(REQUEST_ID_HEADER), peer.trusted)
        status = 500  # what the server answers if the app fails before it starts a response
        echoed = (REQUEST_ID_HEADER.encode(), request_id.encode())

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", []), echoed]}
            await send(message)

        # As sent, percent-encoded: a decoded path could hold a line break.
        path = scope.get("raw_path", b"").decode("latin-1") or scope.get("path", "")
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        IN_PROGRESS.inc()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            IN_PROGRESS.dec()
            seconds = time.perf_counter() - started
            route = state.get(ROUTE_KEY, UNMATCHED)
            method = bounded(scope["method"], METHODS)
            REQUEST_SECONDS.labels(method=method, route=route, status=str(status)).observe(seconds)
            log.info(
                "%s %s %d %.1f ms",
                scope["method"],
                path,
                status,
                seconds * 1000,
                extra={
                    "event": "request",
                    "method": method,
                    "route": route,
                    "path": path,
                    "status": status,
                    "duration_seconds": round(seconds, 6),
                    "user": state.get("user"),
                    "peer": peer.address,
                    "client": peer.forwarded_for,
                },
            )
            REQUEST_ID.reset(token)
