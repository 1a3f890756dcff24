"""One place maps domain errors and framework errors to status codes and FAILED bodies."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match

from buildapi.errors import (
    BadInput,
    BuildAPIError,
    ConfigError,
    Conflict,
    Forbidden,
    NotFound,
    RateLimited,
    Unauthenticated,
    Unavailable,
    Unprocessable,
)
from buildapi.web.negotiation import lenient_format
from buildapi.web.responses import error_response

log = logging.getLogger(__name__)
METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH")

STATUS = {
    BadInput: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Unprocessable: 422,
    RateLimited: 429,
    Unavailable: 503,
    ConfigError: 503,
}


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(BuildAPIError, _domain_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(PoolTimeoutError, _database_unavailable)
    app.add_exception_handler(Exception, _unexpected_error)


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BuildAPIError)
    status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 500)
    return error_response(request, lenient_format(request), status, exc.msg, headers=exc.headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    msg = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if exc.status_code == 404 and msg == "Not Found":
        msg = f"no such page: {request.url.path}"
    headers = exc.headers
    if exc.status_code == 405:
        headers = {**(headers or {}), "Allow": ", ".join(_methods_of_path(request))}
    return error_response(request, lenient_format(request), exc.status_code, msg, headers=headers)


def _methods_of_path(request: Request) -> list[str]:
    """Every method some route serves at the request's path: the router names only the first
    route that matched, though several routes may share a path (GET, PUT and DELETE)."""
    routes = request.app.router.routes
    served = {
        method
        for method in METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes
        )
    }
    if "GET" in served:
        served.add("HEAD")  # answered as GET wherever GET is (negotiation.HeadMiddleware)
    return [method for method in METHODS if method in served]


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0]
    where = first["loc"][-1] if first["loc"] else "request"
    msg = f"bad parameter {where!r}: {first['msg']}"
    return error_response(request, lenient_format(request), 400, msg)


async def _database_unavailable(request: Request, exc: Exception) -> Response:
    """A database that cannot be reached (refused, gone, locked, its pool exhausted) is the
    server's state, not a bug of the request: 503, and one log line, not a traceback."""
    log.warning(
        "database unavailable on %s %s: %s", request.method, request.url.path, _first_line(exc)
    )
    return error_response(
        request, lenient_format(request), 503, "a database is unavailable; try again later"
    )


def _first_line(exc: Exception) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.splitlines()[0] if text else type(exc).__name__


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(request, lenient_format(request), 500, "internal error; see the logs")
