"""`buildapi db` and `buildapi token`: create and migrate the databases, manage API tokens."""

from __future__ import annotations

import argparse
import datetime
import sys
import time

from buildapi.cli.databases import create_databases, open_databases, safe_url
from buildapi.config import Settings
from buildapi.db.engines import DATABASES, Databases


def run_db_init(_args: argparse.Namespace, settings: Settings) -> int:
    create_databases(settings).dispose()
    for name in DATABASES:
        print(f"{name}: ready ({safe_url(settings.database_url(name))})")
    return 0


def run_db_upgrade(_args: argparse.Namespace, settings: Settings) -> int:
    from buildapi.db.setup import upgrade_buildapi_db

    databases = open_databases(settings, "db upgrade")
    try:
        revision = upgrade_buildapi_db(databases.buildapi_db)
    finally:
        databases.dispose()
    print(f"buildapi_db: at revision {revision}")
    return 0


def run_token_create(args: argparse.Namespace, settings: Settings) -> int:
    databases = open_databases(settings, "token create")
    try:
        token = create_token(databases, args.user, args.groups)
    finally:
        databases.dispose()
    groups = ",".join(args.groups) or "none"
    print(f"token for {args.user} (groups: {groups}); shown once, store it now:")
    print(token)
    return 0


def create_token(databases: Databases, user: str, groups: tuple[str, ...]) -> str:
    from buildapi.db.queries.tokens import add_token
    from buildapi.selfserve.auth import hash_token, new_token

    token = new_token()
    with databases.buildapi_db.connect() as connection:
        add_token(connection, user, groups, hash_token(token), int(time.time()))
    return token


def run_token_list(args: argparse.Namespace, settings: Settings) -> int:
    from buildapi.db.queries.tokens import list_tokens

    databases = open_databases(settings, "token list")
    try:
        with databases.buildapi_db.connect() as connection:
            rows = list_tokens(connection, getattr(args, "user", None))
    finally:
        databases.dispose()
    print(f"{'id':>5}  {'user':<30} {'groups':<20} {'created':<20} {'last used':<20} state")
    for row in rows:
        state = "revoked" if row.revoked_at else "live"
        print(
            f"{row.id:>5}  {row.user:<30} {','.join(row.groups) or '-':<20} "
            f"{_when(row.created_at):<20} {_when(row.last_used_at):<20} {state}"
        )
    return 0


def run_token_revoke(args: argparse.Namespace, settings: Settings) -> int:
    from buildapi.db.queries.tokens import revoke_token

    databases = open_databases(settings, "token revoke")
    try:
        with databases.buildapi_db.connect() as connection:
            revoked = revoke_token(connection, args.id, int(time.time()))
    finally:
        databases.dispose()
    if not revoked:
        print(f"buildapi token revoke: no live token with id {args.id}", file=sys.stderr)
        return 1
    print(f"token {args.id} revoked")
    return 0


def _when(epoch: int | None) -> str:
    if not epoch:
        return "-"
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
