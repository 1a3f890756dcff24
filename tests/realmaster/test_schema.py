"""The scheduler database `buildapi db init` makes is the one a real Buildbot 0.8.2 master makes:
the same tables and columns, nullability, server-side defaults and autoincrementing ids, on
SQLite and MariaDB (the engines 0.8.2 runs on). PostgreSQL's defaults are checked in
tests/unit/db/test_schema.py."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, Integer, SmallInteger, String, Text, create_engine, inspect

from buildapi.config import load_settings
from buildapi.db.engines import Databases, normalize_url
from buildapi.db.schema import scheduler_metadata
from buildapi.db.setup import init_databases
from tests.databases import database_urls
from tests.realmaster.harness import RealMaster, check

ENGINES = ("sqlite", "mysql")


@pytest.fixture(scope="module", params=ENGINES)
def pair(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Engine, Engine]]:
    """(the master's scheduler database, BuildAPI's), both new."""
    root = tmp_path_factory.mktemp(f"schema-{request.param}")
    with (
        database_urls(request.param, root / "masters-db") as masters,
        database_urls(request.param, root / "our-db") as ours,
    ):
        RealMaster(root / "real", masters["schedulerdb"]).create(database=True)
        databases = Databases.from_settings(
            load_settings(
                data_dir=root,
                schedulerdb_url=ours["schedulerdb"],
                statusdb_url=ours["statusdb"],
                buildapi_db_url=ours["buildapi_db"],
            )
        )
        init_databases(databases)
        theirs = create_engine(normalize_url(masters["schedulerdb"]))
        try:
            yield theirs, databases.schedulerdb
        finally:
            theirs.dispose()
            databases.dispose()


def columns(engine: Engine, table: str) -> dict[str, dict[str, Any]]:
    """Each column's kind, nullability and default; a primary key is never null, whether or
    not its DDL says NOT NULL."""
    inspector = inspect(engine)
    keys = set(inspector.get_pk_constraint(table)["constrained_columns"])
    return {
        column["name"]: {
            "family": family(column["type"]),
            "nullable": column["nullable"] and column["name"] not in keys,
            "default": normal_default(column["default"]),
        }
        for column in inspector.get_columns(table)
    }


def family(kind: Any) -> str:
    """What a column holds, as both schemas agree to say it (VARCHAR(n) keeps its size)."""
    if isinstance(kind, Integer | SmallInteger):
        return "integer"
    if isinstance(kind, String) and not isinstance(kind, Text) and kind.length:
        return f"varchar({kind.length})"
    if isinstance(kind, String | Text):
        return "text"
    raise AssertionError(f"unexpected column type {kind!r}")


def normal_default(default: str | None) -> str | None:
    """`'0'`, `0`, `('')` and `NULL` as plain values; no default and a NULL default alike."""
    if default is None or default.upper() == "NULL":
        return None
    return re.sub(r"^[('\"]+|[)'\"]+$", "", default)


def test_every_table_of_the_master_is_in_ours(pair: tuple[Engine, Engine]) -> None:
    theirs, ours = pair
    assert set(inspect(theirs).get_table_names()) <= set(scheduler_metadata.tables)
    assert set(inspect(theirs).get_table_names()) <= set(inspect(ours).get_table_names())


def test_columns_match_the_masters(pair: tuple[Engine, Engine]) -> None:
    theirs, ours = pair
    for table in inspect(theirs).get_table_names():
        assert columns(ours, table) == columns(theirs, table), table


def test_ids_autoincrement_as_the_masters_do(pair: tuple[Engine, Engine]) -> None:
    theirs, ours = pair
    for table in inspect(theirs).get_table_names():
        assert autoincrements(ours, table) == autoincrements(theirs, table), table


def autoincrements(engine: Engine, table: str) -> bool:
    """SQLite: the table's AUTOINCREMENT keyword (ids never reused); MariaDB: AUTO_INCREMENT."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            sql = connection.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
            ).scalar_one()
        return "AUTOINCREMENT" in sql.upper()
    return any(column.get("autoincrement") is True for column in inspect(engine).get_columns(table))


def test_the_master_accepts_our_version_row(tmp_path: Path) -> None:
    """`buildbot upgrade-master` on a database `buildapi db init` made: nothing to upgrade."""
    settings = load_settings(data_dir=tmp_path / "data")
    databases = Databases.from_settings(settings)
    init_databases(databases)
    master = RealMaster(tmp_path, settings.database_url("schedulerdb"))
    master.create(database=False)
    upgraded = master.upgrade()
    check(upgraded, "buildbot upgrade-master")
    assert "upgrade complete" in upgraded.stdout
    databases.dispose()


def test_init_on_a_masters_database_adds_our_indexes(tmp_path: Path) -> None:
    """A master's database lacks the indexes BuildAPI's reads need; `db init` adds them once and
    keeps the master's."""
    settings = load_settings(data_dir=tmp_path / "data")
    master = RealMaster(tmp_path, settings.database_url("schedulerdb"))
    master.create(database=True)
    databases = Databases.from_settings(settings)
    before = index_columns(databases.schedulerdb, "buildrequests")
    assert ["complete", "claimed_at"] not in before
    init_databases(databases)
    after = index_columns(databases.schedulerdb, "buildrequests")
    assert ["complete", "claimed_at"] in after
    assert all(columns in after for columns in before)
    init_databases(databases)
    assert index_columns(databases.schedulerdb, "buildrequests") == after
    databases.dispose()


def index_columns(engine: Engine, table: str) -> list[list[str]]:
    return sorted(index["column_names"] for index in inspect(engine).get_indexes(table))
