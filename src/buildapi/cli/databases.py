"""Opening the databases for a command: only `demo` and `db init` may create them; every other
command refuses a data directory or database that has none, and says which one it used, so a
command run from the wrong directory cannot quietly start an empty farm of its own."""

from __future__ import annotations

from buildapi.config import Settings
from buildapi.db.engines import DATABASES, Databases, normalize_url
from buildapi.db.presence import sqlite_file_missing, without_tables
from buildapi.errors import ConfigError


def open_databases(settings: Settings, command: str, *, quiet: bool = False) -> Databases:
    """The databases, which must exist with their tables; says which ones on stdout unless
    `quiet` (a cron job's silence means success)."""
    missing = [name for name in DATABASES if sqlite_file_missing(settings.database_url(name))]
    if missing:
        raise ConfigError(
            f"{command}: no databases in {where(settings)} ({', '.join(missing)} missing); "
            "run `buildapi db init` or `buildapi demo` with this --data-dir/--config first"
        )
    databases = Databases.from_settings(settings)
    try:
        empty = without_tables(databases)
    except BaseException:
        databases.dispose()
        raise
    if empty:
        databases.dispose()
        raise ConfigError(
            f"{command}: {', '.join(empty)} in {where(settings)} has no tables; "
            "run `buildapi db init` first"
        )
    if not quiet:
        print(f"buildapi {command}: using {where(settings)}", flush=True)
    return databases


def create_databases(settings: Settings) -> Databases:
    """The databases with every schema created (safe to repeat): `demo` and `db init` only."""
    from buildapi.db.setup import init_databases

    databases = Databases.from_settings(settings)
    try:
        init_databases(databases)
    except BaseException:
        databases.dispose()
        raise
    return databases


def where(settings: Settings) -> str:
    """The data directory, when the databases are its embedded ones; else their URLs."""
    if not any(getattr(settings, f"{name}_url") for name in DATABASES):
        return f"data directory {settings.data_dir.resolve()}"
    return ", ".join(f"{name} {safe_url(settings.database_url(name))}" for name in DATABASES)


def safe_url(url: str) -> str:
    return normalize_url(url).render_as_string(hide_password=True)
