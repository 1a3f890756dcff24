"""Credentials off the request: Basic (user + API token or htpasswd password), Bearer tokens,
a trusted proxy's header, or the loopback development user; then the branch check."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from buildapi.errors import Forbidden, Unauthenticated, Unavailable
from buildapi.selfserve.auth import (
    Identity,
    identity_of_token,
    is_loopback,
    may_act_on,
)
from buildapi.web.csrf import check_request
from buildapi.web.deps import AppState, State
from buildapi.web.peers import Peer, peer_of


def _proxy_identity(request: Request, peer: Peer, state: AppState) -> Identity | None:
    if not peer.trusted:
        return None
    user = request.headers.get(state.settings.auth_proxy_header, "").strip()
    return Identity(user=user, how="proxy") if user else None


def _header_identity(header: str, state: AppState) -> Identity:
    scheme, _, value = header.partition(" ")
    value = value.strip()
    engine = state.databases.buildapi_db
    if scheme.lower() == "bearer" and value:
        found = identity_of_token(engine, value)
    elif scheme.lower() == "basic" and value:
        try:
            user, _, secret = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise Unauthenticated("malformed Basic credentials") from None
        found = None
        if state.htpasswd is not None and state.htpasswd.check(user, secret):
            found = Identity(user=user, how="password")
        elif user and secret:
            found = identity_of_token(engine, secret, user)
    else:
        raise Unauthenticated("use HTTP Basic (user and API token) or a Bearer token")
    if found is None:
        raise Unauthenticated("bad credentials")
    return found


def _identity(request: Request, state: AppState) -> Identity | None:
    """Who the request proves to be; None when it carries no credentials at all. The
    development user is for a browser on this machine, never for a proxy's clients, nor for a
    page of another site whose name was rebound to a loopback address (its Host says so)."""
    peer = peer_of(request, state.settings)
    proxied = _proxy_identity(request, peer, state)
    if proxied is not None:
        return proxied
    header = request.headers.get("authorization")
    if header:
        return _header_identity(header, state)
    settings = state.settings
    dev_user = settings.auth_dev_user
    if (
        dev_user
        and is_loopback(settings.host)
        and not peer.trusted
        and is_loopback(peer.address)
        and is_loopback(urlsplit(f"//{request.headers.get('host', '')}").hostname)
    ):
        return Identity(user=dev_user, how="dev")
    return None


def _checked_identity(request: Request, state: AppState) -> Identity | None:
    """The identity, also kept on the request for its log line."""
    try:
        identity = _identity(request, state)
    except SQLAlchemyError as exc:
        raise Unavailable("cannot check credentials: the buildapi database is unavailable") from exc
    if identity is not None:
        request.state.user = identity.user
    return identity


async def reader(request: Request, state: State) -> Identity | None:
    """Reads are public, but credentials that are sent must be good (clients check theirs
    with `GET /self-serve`), and `read_requires_auth` makes them mandatory."""
    identity = await run_in_threadpool(_checked_identity, request, state)
    if identity is None and state.settings.read_requires_auth:
        raise Unauthenticated("credentials required")
    return identity


async def actor(request: Request, state: State) -> Identity:
    """The authenticated user, allowed on the branch of the path (401, then 403), by a request
    that passes the CSRF check (403)."""
    identity = await run_in_threadpool(_checked_identity, request, state)
    if identity is None:
        raise Unauthenticated("credentials required")
    branch = request.path_params.get("branch")
    if branch is not None and not may_act_on(identity, branch, state.settings.auth_branch_groups):
        raise Forbidden(f"{identity.user} may not act on branch {branch}")
    await check_request(request, state)
    return identity


Reader = Annotated[Identity | None, Depends(reader)]
Actor = Annotated[Identity, Depends(actor)]
