"""CSRF protection of the self-serve forms: a signed double-submit cookie, and the browser's
word on where a request comes from.

A page with action forms sets a cookie holding a token signed with the server's secret
(SameSite=Strict, HttpOnly; `__Host-` prefixed and Secure over HTTPS, so neither plain HTTP
nor a sibling domain can plant one) and puts the same token in each form's `csrf_token`
field. A write that carries a token must match the cookie and bear our signature: a cookie
someone planted does not. Whatever it carries, a write is refused when the browser says it
comes from another site (Sec-Fetch-Site, an Origin or a Referer other than the Host): there
the browser would add Basic credentials, the proxy's login or the loopback development user
on its own. Scripts send none of these headers and keep working without a token.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response

from buildapi.errors import Forbidden
from buildapi.web.deps import AppState
from buildapi.web.forms import request_fields
from buildapi.web.peers import peer_of
from buildapi.web.urls import link

COOKIE = "buildapi_csrf"
SECURE_COOKIE = f"__Host-{COOKIE}"
FIELD = "csrf_token"
# Rendered (and cached) in place of the token; each visitor's response gets their own.
PLACEHOLDER = "__buildapi_csrf_token__"
NONCE_BYTES = 32
OTHER_SITE = {"cross-site", "same-site"}


def with_token(endpoint: Callable[..., Response]) -> Callable[..., Response]:
    """Decorate a page endpoint (outside `@cached`, so a cached page is shared by everyone):
    the visitor's token replaces PLACEHOLDER in the HTML, and the cookie is set if missing."""

    @functools.wraps(endpoint)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        return issue_token(kwargs["request"], endpoint(*args, **kwargs))

    return wrapper


def issue_token(request: Request, response: Response) -> Response:
    """Fill in the token of an HTML page that has forms; keep the visitor's cookie if it is
    one of ours."""
    marker = PLACEHOLDER.encode()
    body = bytes(response.body)
    if not response.headers.get("content-type", "").startswith("text/html") or marker not in body:
        return response
    state: AppState = request.app.state.buildapi
    secure = _is_https(request, state)
    cookie = request.cookies.get(_cookie_name(secure), "")
    token = cookie if _signed(cookie, state.secret) else _new_token(state.secret)
    response.body = body.replace(marker, token.encode())
    response.headers["content-length"] = str(len(response.body))
    response.headers["cache-control"] = "private"
    if token != cookie:
        response.set_cookie(
            _cookie_name(secure),
            token,
            path="/" if secure else link(request, "") or "/",
            secure=secure,
            httponly=True,
            samesite="strict",
        )
    return response


async def check_request(request: Request, state: AppState) -> None:
    """403 for a write a browser says comes from another site, or whose token is not the
    cookie's or not ours."""
    if from_another_site(request.headers):
        raise Forbidden("a browser request from another site may not act on builds")
    sent = (await request_fields(request, state.settings.write_max_body_bytes)).get(FIELD)
    if sent is None:
        return
    cookie = request.cookies.get(_cookie_name(_is_https(request, state)), "")
    if not (
        isinstance(sent, str) and cookie and _same(sent, cookie) and _signed(sent, state.secret)
    ):
        raise Forbidden(
            f"the form's CSRF token does not match the {COOKIE} cookie; "
            "reload the page and try again"
        )


def from_another_site(headers: Headers) -> bool:
    """What a browser says of a request's origin, by any of the headers it sends; False when
    it says nothing (a script)."""
    if headers.get("sec-fetch-site", "").lower() in OTHER_SITE:
        return True
    host = headers.get("host", "").lower()
    origin = headers.get("origin")
    if origin is not None:
        return urlsplit(origin).netloc.lower() != host
    referer = headers.get("referer")
    return referer is not None and urlsplit(referer).netloc.lower() != host


def _is_https(request: Request, state: AppState) -> bool:
    return peer_of(request, state.settings).scheme == "https"


def _cookie_name(secure: bool) -> str:
    return SECURE_COOKIE if secure else COOKIE


def _new_token(secret: bytes) -> str:
    nonce = secrets.token_urlsafe(NONCE_BYTES)
    return f"{nonce}.{_signature(nonce, secret)}"


def _signed(token: str, secret: bytes) -> bool:
    nonce, _, signature = token.partition(".")
    return bool(nonce) and _same(signature, _signature(nonce, secret))


def _signature(nonce: str, secret: bytes) -> str:
    digest = hmac.new(secret, f"csrf:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _same(sent: str, expected: str) -> bool:
    return hmac.compare_digest(sent.encode(), expected.encode())
