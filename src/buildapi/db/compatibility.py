"""Which scheduler databases BuildAPI works on: Buildbot 0.8.2's schema, version 6.

Buildbot 0.8.3 and later migrate the schema with sqlalchemy-migrate (a `migrate_version` table)
and keep claims in `buildrequest_claims` instead of `buildrequests.claimed_at`; every statement
BuildAPI sends would fail on them. Checked when the web and the agent start, so a wrong database
is one clear line instead of a stream of failing jobs; and used to tell a statement the schema
cannot answer from a lost connection.
"""

from __future__ import annotations

import logging

from sqlalchemy import Engine, inspect, select
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError

from buildapi.db.schema.scheduler import SCHEMA_VERSION, version
from buildapi.errors import UnsupportedSchema

log = logging.getLogger(__name__)

SUPPORTED = f"BuildAPI supports Buildbot 0.8.2's scheduler schema (version {SCHEMA_VERSION})"
NEWER_TABLES = ("migrate_version", "buildrequest_claims")
# What each engine says when a statement names a table or column the schema lacks: SQLite's
# messages, MySQL's error numbers, PostgreSQL's SQLSTATE codes.
SQLITE_MISSING = ("no such table", "no such column", "has no column named")
MYSQL_MISSING = {1054, 1146}
POSTGRESQL_MISSING = {"42P01", "42703"}


def check_scheduler_schema(engine: Engine) -> None:
    """Raise UnsupportedSchema unless the scheduler database has 0.8.2's one version row."""
    tables = set(inspect(engine).get_table_names())
    newer = [name for name in NEWER_TABLES if name in tables]
    if newer:
        raise UnsupportedSchema(
            f"the scheduler database has a later Buildbot's schema (table {newer[0]}); {SUPPORTED}"
        )
    if "version" not in tables:
        raise UnsupportedSchema(
            "the scheduler database has no version table: run `buildapi db init` on an empty "
            f"database or use a Buildbot 0.8.2 master's; {SUPPORTED}"
        )
    with engine.connect() as connection:
        rows = connection.execute(select(version.c.version)).scalars().all()
    if rows != [SCHEMA_VERSION]:
        found = ", ".join(str(row) for row in rows) or "none"
        raise UnsupportedSchema(
            f"the scheduler database's version rows are [{found}], not [{SCHEMA_VERSION}]; "
            f"{SUPPORTED}"
        )


def refuse_unsupported_schema(engine: Engine) -> None:
    """At start: raise UnsupportedSchema for a database of another schema. One that cannot be
    reached now is not refused: the health check reports it and the work retries."""
    try:
        check_scheduler_schema(engine)
    except (OperationalError, DisconnectionError) as exc:
        log.warning("cannot check the scheduler database's schema now: %s", exc)


def is_schema_mismatch(exc: BaseException) -> bool:
    """The statement names a table or column this database does not have: retrying cannot
    help, unlike a lost connection."""
    if not isinstance(exc, DBAPIError) or exc.orig is None:
        return False
    original = exc.orig
    code = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    if code in POSTGRESQL_MISSING:
        return True
    arguments = getattr(original, "args", ())
    if arguments and isinstance(arguments[0], int) and arguments[0] in MYSQL_MISSING:
        return True
    message = str(original).lower()
    return type(original).__module__.startswith("sqlite3") and any(
        phrase in message for phrase in SQLITE_MISSING
    )
