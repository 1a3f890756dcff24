"""URL -> Engine, with each dialect's needs handled in one place."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.engine import URL

from buildapi.config import Settings

DATABASES = ("schedulerdb", "statusdb", "buildapi_db")

# Plain scheme names pick the drivers we ship, so users can write postgresql://, mysql://.
_DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
}


def normalize_url(url: str) -> URL:
    parsed = make_url(url)
    driver = _DRIVERS.get(parsed.drivername)
    return parsed.set(drivername=driver) if driver else parsed


def make_engine(url: str, settings: Settings) -> Engine:
    """An Engine for `url`: SQLite in WAL with a busy timeout; servers with a connect timeout."""
    parsed = normalize_url(url)
    backend = parsed.get_backend_name()
    connect_args: dict[str, Any] = {}
    options: dict[str, Any] = {"pool_pre_ping": True}
    if backend == "sqlite":
        connect_args["timeout"] = settings.sqlite_busy_timeout_seconds
        connect_args["check_same_thread"] = False
        if parsed.database and parsed.database != ":memory:":
            # Best effort: if the directory cannot be made, connecting reports why.
            with contextlib.suppress(OSError):
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    elif backend in ("mysql", "mariadb"):
        connect_args["connect_timeout"] = settings.db_connect_timeout_seconds
        connect_args["charset"] = "utf8mb4"
        options["pool_recycle"] = 3600
    elif backend == "postgresql":
        connect_args["connect_timeout"] = settings.db_connect_timeout_seconds
    engine = create_engine(parsed, connect_args=connect_args, **options)
    if backend == "sqlite":
        _tune_sqlite(engine, settings.sqlite_busy_timeout_seconds)
    return engine


def _tune_sqlite(engine: Engine, busy_timeout: float) -> None:
    """WAL lets readers (web) and writers (farm, agent) work at once; the busy timeout makes a
    writer wait for the lock instead of failing at once."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


@dataclass(frozen=True)
class Databases:
    """The three engines a process works with."""

    schedulerdb: Engine
    statusdb: Engine
    buildapi_db: Engine
    _write_locks: dict[str, threading.Lock] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )

    @classmethod
    def from_settings(cls, settings: Settings) -> Databases:
        engines = {name: make_engine(settings.database_url(name), settings) for name in DATABASES}
        return cls(**engines)

    @contextlib.contextmanager
    def writer(self, name: str) -> Iterator[Connection]:
        """A connection to database `name` for a write transaction. SQLite lets one writer in
        at a time and makes the others poll in sleeps of up to 100 ms; the threads of one
        process queue on a lock instead, so the next writer starts as soon as the last one
        commits."""
        engine: Engine = getattr(self, name)
        with self._serial(name, engine), engine.connect() as connection:
            yield connection

    def _serial(self, name: str, engine: Engine) -> AbstractContextManager[object]:
        if engine.dialect.name != "sqlite":
            return contextlib.nullcontext()
        return self._write_locks.setdefault(name, threading.Lock())

    def items(self) -> list[tuple[str, Engine]]:
        return [(name, getattr(self, name)) for name in DATABASES]

    def dispose(self) -> None:
        for _name, engine in self.items():
            engine.dispose()


def ping(engine: Engine) -> None:
    """Raise if the database cannot answer a trivial query."""
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def database_kind_and_name(engine: Engine) -> tuple[str, str]:
    """What a health page may show of a database: its engine and its name, never a file's
    directory, a host or a password."""
    url = engine.url
    name = url.database or ""
    if url.get_backend_name() == "sqlite":
        name = Path(name).name if name else ":memory:"
    return url.get_backend_name(), name
