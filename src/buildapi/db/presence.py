"""Whether databases exist before anything connects: connecting to a SQLite file creates it,
so a command that must not create databases asks here first."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from buildapi.db.engines import Databases


def sqlite_file_missing(url: str) -> bool:
    """A SQLite URL whose file is not there (connecting would create an empty one)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return False
    return not Path(parsed.database).is_file()


def without_tables(databases: Databases) -> list[str]:
    """The names of the databases that have no table at all."""
    return [name for name, engine in databases.items() if not inspect(engine).get_table_names()]
