"""The rules every endpoint shares: output format, the `_method` override, HEAD, trailing
slashes."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qs, quote

from fastapi import Depends, Query, Request
from starlette.datastructures import Headers
from starlette.responses import RedirectResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from buildapi.errors import BadInput
from buildapi.web.forms import parse_fields
from buildapi.web.urls import local_path

FORMATS = ("json", "html")


def choose_format(format_param: str | None, accept: str, allowed: tuple[str, ...] = FORMATS) -> str:
    """`?format=` wins; otherwise JSON when Accept mentions application/json; otherwise HTML."""
    if format_param is not None:
        if format_param not in allowed:
            raise BadInput(f"unsupported format {format_param!r}; use one of: {', '.join(allowed)}")
        return format_param
    return "json" if "application/json" in accept else "html"


def names_no_format(request: Request) -> bool:
    """A script's request: no `?format=`, and an Accept (often `*/*` or none) that names neither
    a page nor JSON. Legacy scripts parse the whole text of such answers as JSON."""
    if "format" in request.query_params:
        return False
    accept = request.headers.get("accept", "")
    return "text/html" not in accept and "application/json" not in accept


def lenient_format(request: Request) -> str:
    """The format for an error page: like choose_format, but never fails. A client that asked
    for CSV gets its error as text too, never an HTML page."""
    if request.query_params.get("format") == "csv":
        return "csv"
    try:
        return choose_format(request.query_params.get("format"), request.headers.get("accept", ""))
    except BadInput:
        return choose_format(None, request.headers.get("accept", ""))


FormatQuery = Annotated[
    str | None,
    Query(description="json or html (csv too for table reports); default from the Accept header"),
]


def format_dependency(allowed: tuple[str, ...]) -> Any:
    """An Annotated parameter type giving the chosen format among `allowed`."""

    def output_format(request: Request, format: FormatQuery = None) -> str:
        return choose_format(format, request.headers.get("accept", ""), allowed)

    output_format.formats = allowed  # type: ignore[attr-defined]  # read by web/openapi.py
    return Annotated[str, Depends(output_format)]


OutputFormat = format_dependency(FORMATS)
# Reports that are tables can also be had as CSV.
TableFormat = format_dependency((*FORMATS, "csv"))

OVERRIDABLE = {"PUT", "DELETE"}
# Bodies larger than this are not inspected for `_method`; the write endpoints reject them.
MAX_OVERRIDE_BODY = 1 << 20


class MethodOverrideMiddleware:
    """A POST whose form (or JSON) body, or else whose query, has `_method` = PUT or DELETE is
    routed as that method, for clients and HTML forms that can only POST: the query lets one
    page-wide form carry each row's method in its buttons' `formaction`. The body is passed on
    untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        body, more = await _read_body(receive, MAX_OVERRIDE_BODY)
        replay = _replayer(body, more, receive)
        if not more:
            method = await _override_method(Headers(scope=scope), body) or _query_method(scope)
            if method in OVERRIDABLE:
                scope = {**scope, "method": method}
        await self.app(scope, replay, send)


class HeadMiddleware:
    """HEAD is answered as GET, headers and all, without the body: monitoring and `curl -I`
    use it, and the routes need not declare it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)


async def _read_body(receive: Receive, limit: int) -> tuple[bytes, bool]:
    """Read up to `limit` bytes; the flag says the body goes on beyond what was read."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), False
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), False
        if size > limit:
            return b"".join(chunks), True


def _replayer(body: bytes, more: bool, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": more}

    return replay


async def _override_method(headers: Headers, body: bytes) -> str | None:
    try:
        value = (await parse_fields(headers, body)).get("_method")
    except BadInput:  # a malformed body is the endpoint's to reject, not ours
        return None
    return value.upper() if isinstance(value, str) else None


def _query_method(scope: Scope) -> str | None:
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("_method")
    return values[0].upper() if values else None


class TrailingSlashMiddleware:
    """`/x/` answers 301 to `/x`, keeping the query; the root of the app keeps its slash. Paths
    outside the mount prefix are left to the app (a 404)."""

    def __init__(self, app: ASGIApp, prefix: str = "") -> None:
        self.app = app
        self.prefix = prefix
        self.roots = {"/", f"{prefix}/"}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and path.endswith("/") and path not in self.roots:
            target = slashless_target(scope, self.prefix)
            if target is not None:
                query = scope.get("query_string", b"").decode("latin-1")
                response = RedirectResponse(target + (f"?{query}" if query else ""), 301)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def slashless_target(scope: Scope, prefix: str) -> str | None:
    """The request's path as sent (percent-encoded, so `%2F` stays `%2F`) without its trailing
    slashes, under `prefix`; None outside it. Leading slashes and backslashes collapse to one
    slash: browsers read `//host` and `/\\host` in a Location as another site."""
    raw = scope.get("raw_path") or quote(scope.get("path", "")).encode()
    sent = raw.decode("latin-1")
    if prefix and not sent.startswith(f"{prefix}/"):
        return None
    return local_path(prefix, sent[len(prefix) :].rstrip("/"))
