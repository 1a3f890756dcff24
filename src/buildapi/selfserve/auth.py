"""Who is asking and what they may do: API tokens, htpasswd entries and per-branch groups.
The web layer reads credentials off requests; the decisions live here."""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from passlib.apache import HtpasswdFile
from sqlalchemy import Engine

from buildapi.db.queries.tokens import use_token
from buildapi.errors import ConfigError

TOKEN_BYTES = 32


@dataclass(frozen=True)
class Identity:
    user: str
    groups: frozenset[str] = field(default_factory=frozenset)
    how: str = "token"  # token, password, proxy or dev, for the audit line


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """Tokens are long random strings, so one SHA-256 is enough (no salt or stretching)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def identity_of_token(engine: Engine, token: str, user: str | None = None) -> Identity | None:
    """The owner of a live token; with Basic auth the user name must match it as well."""
    with engine.connect() as connection:
        row = use_token(connection, hash_token(token), int(time.time()))
    if row is None or (user is not None and row.user != user):
        return None
    return Identity(user=row.user, groups=frozenset(row.groups))


class Htpasswd:
    """An htpasswd file, read again when it changes on disk."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self._file = HtpasswdFile(str(self.path))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read auth_htpasswd_file {self.path}: {exc}") from exc

    def check(self, user: str, password: str) -> bool:
        with self._lock:
            self._file.load_if_changed()
            return bool(self._file.check_password(user, password))


def in_networks(address: str | None, networks: list[str]) -> bool:
    """Whether `address` is one of, or inside one of, `networks` (addresses or CIDR)."""
    if not address or not networks:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for network in networks:
        try:
            if ip in ipaddress.ip_network(network, strict=False):
                return True
        except ValueError:
            continue
    return False


def is_loopback(address: str | None) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return address == "localhost"


def may_act_on(identity: Identity, branch: str, branch_groups: dict[str, list[str]]) -> bool:
    """Branches listed in `branch_groups` need one of their groups; the rest are open to any
    authenticated user."""
    needed = branch_groups.get(branch)
    return not needed or bool(identity.groups & set(needed))
