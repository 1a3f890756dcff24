"""CSRF protection of the self-serve forms by a double-submit cookie.

A page with action forms sets a random `buildapi_csrf` cookie (SameSite=Strict, HttpOnly) and
puts the same value in each form's `csrf_token` field. A write that carries a token must match
the cookie: another site can neither read the cookie nor make the browser send it. A write
without a token is refused when a browser says it comes from another site (Sec-Fetch-Site, or
an Origin other than the Host): there the browser would add Basic credentials, the proxy's
login or the loopback development user on its own. Scripts send neither header and keep
working without a token.
"""

from __future__ import annotations

import functools
import hmac
import re
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response

from buildapi.errors import Forbidden
from buildapi.web.forms import request_fields
from buildapi.web.urls import link

COOKIE = "buildapi_csrf"
FIELD = "csrf_token"
# Rendered (and cached) in place of the token; each visitor's response gets their own.
PLACEHOLDER = "__buildapi_csrf_token__"
TOKEN_BYTES = 32
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(TOKEN_BYTES)
OTHER_SITE = {"cross-site", "same-site"}


def with_token(endpoint: Callable[..., Response]) -> Callable[..., Response]:
    """Decorate a page endpoint (outside `@cached`, so a cached page is shared by everyone):
    the visitor's token replaces PLACEHOLDER in the HTML, and the cookie is set if missing."""

    @functools.wraps(endpoint)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        return issue_token(kwargs["request"], endpoint(*args, **kwargs))

    return wrapper


def issue_token(request: Request, response: Response) -> Response:
    """Fill in the token of an HTML page that has forms; keep the visitor's cookie if valid."""
    marker = PLACEHOLDER.encode()
    body = bytes(response.body)
    if not response.headers.get("content-type", "").startswith("text/html") or marker not in body:
        return response
    cookie = request.cookies.get(COOKIE, "")
    token = cookie if _TOKEN.fullmatch(cookie) else secrets.token_urlsafe(TOKEN_BYTES)
    response.body = body.replace(marker, token.encode())
    response.headers["content-length"] = str(len(response.body))
    response.headers["cache-control"] = "private"
    if token != cookie:
        response.set_cookie(
            COOKIE,
            token,
            path=link(request, "") or "/",
            secure=request.url.scheme == "https",
            httponly=True,
            samesite="strict",
        )
    return response


async def check_request(request: Request, limit: int) -> None:
    """403 for a token that does not match the cookie, or a tokenless write from another site."""
    sent = (await request_fields(request, limit)).get(FIELD)
    if sent is not None:
        cookie = request.cookies.get(COOKIE, "")
        if not (isinstance(sent, str) and cookie and _same(sent, cookie)):
            raise Forbidden(
                "the form's CSRF token does not match the buildapi_csrf cookie; "
                "reload the page and try again"
            )
        return
    if from_another_site(request.headers):
        raise Forbidden(
            "a browser request from another site needs the csrf_token of a BuildAPI page"
        )


def from_another_site(headers: Headers) -> bool:
    """What a browser says of a request's origin; False when it says nothing (a script)."""
    if headers.get("sec-fetch-site", "").lower() in OTHER_SITE:
        return True
    origin = headers.get("origin")
    if origin is None:
        return False
    return urlsplit(origin).netloc.lower() != headers.get("host", "").lower()


def _same(sent: str, cookie: str) -> bool:
    return hmac.compare_digest(sent.encode(), cookie.encode())
