"""The three schemas on every engine: creation, idempotent init, a row through every table."""

from __future__ import annotations

import datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import (
    Boolean,
    DateTime,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    func,
    inspect,
    select,
)

from buildapi.db.engines import Databases
from buildapi.db.schema import METADATA, buildapi_metadata
from buildapi.db.setup import current_revision, init_databases, upgrade_buildapi_db

WHEN = datetime.datetime(2026, 3, 8, 10, 30, 15)  # naive UTC, as statusdb stores it


def sample_row(table: Table) -> dict[str, object]:
    """A value for every column but autoincrement keys, of the column's type and size."""
    row: dict[str, object] = {}
    for number, column in enumerate(table.columns, start=1):
        if column.primary_key and column.autoincrement in (True, "auto"):
            continue
        kind = column.type
        if isinstance(kind, Boolean):
            row[column.name] = True
        elif isinstance(kind, SmallInteger):
            row[column.name] = number
        elif isinstance(kind, Integer):
            row[column.name] = 1_700_000_000 + number
        elif isinstance(kind, DateTime):
            row[column.name] = WHEN
        elif isinstance(kind, String | Text):
            length = getattr(kind, "length", None) or 2000
            row[column.name] = ("é" + column.name * 40)[: min(length, 300)]
        else:
            raise AssertionError(f"no sample value for {table.name}.{column.name}: {kind}")
    return row


def test_init_creates_every_table(engine_databases: Databases) -> None:
    init_databases(engine_databases)
    for name, engine in engine_databases.items():
        present = set(inspect(engine).get_table_names())
        missing = set(METADATA[name].tables) - present
        assert not missing, f"{name} lacks {missing}"


def test_every_table_round_trips_a_row(engine_databases: Databases) -> None:
    init_databases(engine_databases)
    for name, engine in engine_databases.items():
        for table in METADATA[name].sorted_tables:
            row = sample_row(table)
            with engine.begin() as connection:
                connection.execute(table.insert().values(row))
            with engine.connect() as connection:
                stored = connection.execute(select(table)).mappings().one()
            for column, value in row.items():
                assert stored[column] == value, f"{name}.{table.name}.{column}"


def test_init_twice_keeps_rows(engine_databases: Databases) -> None:
    init_databases(engine_databases)
    jobrequests = buildapi_metadata.tables["jobrequests"]
    with engine_databases.buildapi_db.begin() as connection:
        connection.execute(jobrequests.insert().values(sample_row(jobrequests)))
    init_databases(engine_databases)
    with engine_databases.buildapi_db.connect() as connection:
        count = connection.execute(select(func.count()).select_from(jobrequests)).scalar_one()
    assert count == 1
    assert current_revision(engine_databases.buildapi_db) == "0002"


def test_migrations_match_the_schema_module(engine_databases: Databases) -> None:
    """The Alembic history builds exactly the tables db/schema/buildapi.py declares."""
    head = upgrade_buildapi_db(engine_databases.buildapi_db)
    assert current_revision(engine_databases.buildapi_db) == head
    with engine_databases.buildapi_db.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, buildapi_metadata)
    assert differences == []


def test_sqlite_uses_wal_and_a_busy_timeout(databases: Databases) -> None:
    with databases.schedulerdb.connect() as connection:
        mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar_one()
        timeout = connection.exec_driver_sql("PRAGMA busy_timeout").scalar_one()
    assert mode == "wal"
    assert timeout == 30_000


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:p@h/db", "postgresql+psycopg"),
        ("mysql://u:p@h/db", "mysql+pymysql"),
        ("mariadb://u:p@h/db", "mariadb+pymysql"),
        ("postgresql+psycopg2://u:p@h/db", "postgresql+psycopg2"),
        ("sqlite:///x.sqlite", "sqlite"),
    ],
)
def test_plain_scheme_names_pick_the_shipped_drivers(given: str, expected: str) -> None:
    from buildapi.db.engines import normalize_url

    assert normalize_url(given).drivername == expected
