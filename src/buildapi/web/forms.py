"""Fields of a write request: query parameters plus a form, multipart or JSON body (legacy
clients send forms, newer ones JSON), read within a size limit and checked one by one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.datastructures import Headers
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request

from buildapi.errors import BadInput
from buildapi.parsing import parse_int

# Not arguments of any action: the output format, the method override and the CSRF token.
CONTROL_FIELDS = {"format", "_method", "csrf_token"}


async def parse_fields(headers: Headers, body: bytes) -> dict[str, Any]:
    """The body's fields by content type; an empty body has none."""
    if not body.strip():
        return {}
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise BadInput(f"body is not valid JSON: {exc}") from None
        if not isinstance(document, dict):
            raise BadInput("a JSON body must be an object of fields")
        return document
    if content_type == "multipart/form-data":
        return await _multipart_fields(headers, body)
    if content_type in ("application/x-www-form-urlencoded", ""):
        try:
            return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            raise BadInput("form body is not UTF-8") from None
    raise BadInput(f"unsupported content type {content_type!r}; send a form or JSON")


async def _multipart_fields(headers: Headers, body: bytes) -> dict[str, Any]:
    async def stream() -> AsyncIterator[bytes]:
        yield body

    try:
        form = await MultiPartParser(headers, stream()).parse()
    except MultiPartException as exc:
        raise BadInput(f"malformed multipart body: {exc.message}") from None
    return {key: value for key, value in form.items() if isinstance(value, str)}


async def request_fields(request: Request, limit: int) -> dict[str, Any]:
    """Query parameters and body fields, the body winning, control fields included; a body over
    `limit` bytes is 400. Read once per request: the CSRF check and the route both need them."""
    known = getattr(request.state, "fields", None)
    if known is not None:
        return known
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BadInput(f"body too large: {declared} bytes, at most {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BadInput(f"body too large: more than {limit} bytes")
        chunks.append(chunk)
    fields: dict[str, Any] = dict(request.query_params)
    fields.update(await parse_fields(request.headers, b"".join(chunks)))
    request.state.fields = fields
    return fields


async def read_fields(request: Request, limit: int) -> dict[str, Any]:
    """The request's fields that are arguments of the action (no control fields)."""
    fields = await request_fields(request, limit)
    return {key: value for key, value in fields.items() if key not in CONTROL_FIELDS}


def int_field(
    fields: dict[str, Any], name: str, *, low: int, high: int, default: int | None = None
) -> int:
    """An integer field (a JSON integer, or text of the one integer form) within [low, high]."""
    value = fields.get(name)
    if value is None or value == "":
        if default is None:
            raise BadInput(f"missing parameter {name!r}")
        return default
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise BadInput(f"{name} must be an integer, not {value!r}")
    number = parse_int(value, name) if isinstance(value, str) else value
    if not low <= number <= high:
        raise BadInput(f"{name} must be between {low} and {high}, not {number}")
    return number
