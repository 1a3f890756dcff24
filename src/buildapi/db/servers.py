"""A database server as a whole, not one of BuildAPI's databases: whether it answers yet, and
making the empty databases BuildAPI's schemas then go into (`buildapi cluster`)."""

from __future__ import annotations

from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from buildapi.db.engines import normalize_url

QUICK_CONNECT = {"connect_timeout": 3}


def server_answers(url: str) -> bool:
    """True once the server at `url` runs a query (a started PostgreSQL accepts connections
    a while before it answers them)."""
    engine = create_engine(normalize_url(url), connect_args=QUICK_CONNECT)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except SQLAlchemyError:
        return False
    finally:
        engine.dispose()


def ensure_databases(server_url: str, names: list[str]) -> dict[str, str]:
    """Each database of `names` on the server, created when missing; name -> its URL."""
    url = normalize_url(server_url)
    engine = create_engine(url, isolation_level="AUTOCOMMIT", connect_args=QUICK_CONNECT)
    try:
        with engine.connect() as connection:
            for name in names:
                if not _exists(connection, url.get_backend_name(), name):
                    charset = " CHARACTER SET utf8mb4" if _is_mysql(url.get_backend_name()) else ""
                    connection.execute(text(f"CREATE DATABASE {name}{charset}"))
    finally:
        engine.dispose()
    return {name: url.set(database=name).render_as_string(hide_password=False) for name in names}


def _exists(connection, backend: str, name: str) -> bool:  # type: ignore[no-untyped-def]
    if _is_mysql(backend):
        query = "SELECT 1 FROM information_schema.schemata WHERE schema_name = :name"
    else:
        query = "SELECT 1 FROM pg_database WHERE datname = :name"
    return connection.execute(text(query), {"name": name}).first() is not None


def _is_mysql(backend: str) -> bool:
    return backend in ("mysql", "mariadb")
