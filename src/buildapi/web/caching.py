"""Cache a GET endpoint's rendered 200 response for a while; the key includes the format.

A `live` endpoint shows what jobs and the farm change. Its entries carry the cache's write
epoch, which every web process advances before it stores a job's answer, and one of an older
epoch is not served (read your writes: once a job is complete, no worker serves a page cached
before it). Its key also holds the change feed's watermark, which moves when this process's
poller sees the farm change, so a page fetched again after an event is computed again."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from buildapi.web.deps import AppState
from buildapi.web.negotiation import names_no_format
from buildapi.web.urls import app_path

Ttl = int | Callable[[Request], int]


def cache_key(request: Request, fmt: str) -> str:
    """Per path, query and format; a script's bare document is a format of its own."""
    if fmt == "html" and names_no_format(request):
        fmt = "bare"
    query = sorted((k, v) for k, v in request.query_params.multi_items() if k != "format")
    encoded = "&".join(f"{k}={v}" for k, v in query)
    return f"buildapi:{fmt}:{app_path(request)}?{encoded}"


def _entry(epoch: int, response: Response) -> bytes:
    media_type = response.headers.get("content-type", "application/octet-stream")
    return f"{epoch}\n{media_type}\n".encode() + bytes(response.body)


def _served(hit: bytes | None, epoch: int, live: bool) -> Response | None:
    """The cached response, unless there is none or (live) it is from an older epoch."""
    if hit is None:
        return None
    stored, media_type, body = hit.split(b"\n", 2)
    if live and int(stored) != epoch:
        return None
    return Response(body, media_type=media_type.decode(), headers={"X-Cache": "hit"})


def cached(ttl: Ttl, *, live: bool = False) -> Callable:
    """Decorate an endpoint that takes `request`, `fmt` and `state` keyword arguments."""

    def decorate(endpoint: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(endpoint)
        def wrapper(*args: Any, **kwargs: Any) -> Response:
            request: Request = kwargs["request"]
            state: AppState = kwargs["state"]
            key = cache_key(request, kwargs["fmt"])
            if live:
                key = f"{key}#{state.feed.watermark}"
            # The epoch is read before computing: a page computed from data older than a
            # job's answer is stored with the epoch before it, which the answer made stale.
            epoch, hit = state.cache.lookup(key)
            if epoch is None:
                return endpoint(*args, **kwargs)
            served = _served(hit, epoch, live)
            if served is not None:
                return served
            response = endpoint(*args, **kwargs)
            seconds = ttl(request) if callable(ttl) else ttl
            if response.status_code == 200 and seconds > 0:
                state.cache.set(key, _entry(epoch, response), seconds)
            return response

        return wrapper

    return decorate
