"""Cache a GET endpoint's rendered 200 response for a while; the key includes the format.

A `live` endpoint shows what jobs and the farm change. Its key also holds the cache's write
epoch, which every web process advances before it stores a job's answer (read your writes:
once a job is complete, no worker serves a page cached before it), and the change feed's
watermark, which moves when this process's poller sees the farm change."""

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


def freshness(state: AppState) -> str | None:
    """The part of a live key that changes with every job answered and farm change seen;
    None when the epoch cannot be read."""
    epoch = state.cache.epoch()
    return None if epoch is None else f"{epoch}.{state.feed.watermark}"


def cached(ttl: Ttl, *, live: bool = False) -> Callable:
    """Decorate an endpoint that takes `request`, `fmt` and `state` keyword arguments."""

    def decorate(endpoint: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(endpoint)
        def wrapper(*args: Any, **kwargs: Any) -> Response:
            request: Request = kwargs["request"]
            state: AppState = kwargs["state"]
            key = cache_key(request, kwargs["fmt"])
            if live:
                # Read before computing: a page computed from data older than a job's answer
                # is stored under the epoch before it, which the answer made stale.
                fresh = freshness(state)
                if fresh is None:
                    return endpoint(*args, **kwargs)
                key = f"{key}#{fresh}"
            hit = state.cache.get(key)
            if hit is not None:
                media_type, _, body = hit.partition(b"\n")
                return Response(body, media_type=media_type.decode(), headers={"X-Cache": "hit"})
            response = endpoint(*args, **kwargs)
            seconds = ttl(request) if callable(ttl) else ttl
            if response.status_code == 200 and seconds > 0:
                media_type = response.headers.get("content-type", "application/octet-stream")
                state.cache.set(key, media_type.encode() + b"\n" + bytes(response.body), seconds)
            return response

        return wrapper

    return decorate
