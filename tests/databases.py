"""Throw-away databases on SQLite, PostgreSQL and MariaDB, one set per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

from buildapi.db.engines import DATABASES, normalize_url
from tests.services import service_url

ENGINES = ("sqlite", "postgresql", "mysql")


@contextmanager
def scratch_database(server_url: str) -> Iterator[str]:
    """Create an empty database on the server of `server_url`; drop it afterwards."""
    url = normalize_url(server_url)
    name = f"buildapi_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            charset = " CHARACTER SET utf8mb4" if url.get_backend_name() == "mysql" else ""
            connection.execute(text(f"CREATE DATABASE {name}{charset}"))
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        admin.dispose()


@contextmanager
def database_urls(engine: str, directory: Path) -> Iterator[dict[str, str]]:
    """URLs for schedulerdb, statusdb and buildapi_db on `engine`."""
    if engine == "sqlite":
        yield {name: f"sqlite:///{directory / f'{name}.sqlite'}" for name in DATABASES}
        return
    server = service_url(engine)
    with (
        scratch_database(server) as scheduler,
        scratch_database(server) as status,
        scratch_database(server) as own,
    ):
        yield {"schedulerdb": scheduler, "statusdb": status, "buildapi_db": own}
