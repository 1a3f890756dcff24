"""API tokens for tests, made the way `buildapi token create` makes them."""

from __future__ import annotations

import time

from buildapi.db.engines import Databases
from buildapi.db.queries.tokens import add_token
from buildapi.selfserve.auth import hash_token, new_token


def make_token(databases: Databases, user: str, groups: tuple[str, ...] = ()) -> str:
    token = new_token()
    with databases.buildapi_db.connect() as connection:
        add_token(connection, user, groups, hash_token(token), int(time.time()))
    return token
