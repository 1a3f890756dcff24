"""The three schemas on every engine: creation, idempotent init, a row through every table."""

from __future__ import annotations

import datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import (
    Boolean,
    DateTime,
    Integer,
    MetaData,
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
from buildapi.db.schema.scheduler import (
    SCHEMA_VERSION,
    buildrequests,
    buildsets,
    changes,
    sourcestamps,
    version,
)
from buildapi.db.setup import (
    alembic_config,
    current_revision,
    init_databases,
    upgrade_buildapi_db,
)

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
                connection.execute(table.delete())  # `version` starts with its one row
                connection.execute(table.insert().values(row))
            with engine.connect() as connection:
                stored = connection.execute(select(table)).mappings().one()
            for column, value in row.items():
                assert stored[column] == value, f"{name}.{table.name}.{column}"


def test_the_scheduler_database_starts_with_one_version_row(
    engine_databases: Databases,
) -> None:
    init_databases(engine_databases)
    init_databases(engine_databases)
    with engine_databases.schedulerdb.connect() as connection:
        rows = connection.execute(select(version.c.version)).scalars().all()
    assert rows == [SCHEMA_VERSION] == [6]


def test_init_gives_an_empty_version_table_its_row(engine_databases: Databases) -> None:
    """Databases an earlier BuildAPI made have the table but not the row."""
    init_databases(engine_databases)
    with engine_databases.schedulerdb.begin() as connection:
        connection.execute(version.delete())
    init_databases(engine_databases)
    with engine_databases.schedulerdb.connect() as connection:
        assert connection.execute(select(version.c.version)).scalars().all() == [SCHEMA_VERSION]


def test_columns_masters_leave_out_get_their_defaults_from_the_database(
    engine_databases: Databases,
) -> None:
    """Masters insert without these columns and rely on server-side defaults."""
    init_databases(engine_databases)
    statements = [
        "INSERT INTO changes (author, comments, is_dir, when_timestamp) VALUES ('a', 'c', 0, 1)",
        "INSERT INTO sourcestamps (branch, revision) VALUES ('b', 'r')",
        "INSERT INTO buildsets (sourcestampid, submitted_at) VALUES (1, 1)",
        "INSERT INTO buildrequests (buildsetid, buildername, submitted_at) VALUES (1, 'x', 1)",
    ]
    with engine_databases.schedulerdb.begin() as connection:
        for statement in statements:
            connection.exec_driver_sql(statement)
    with engine_databases.schedulerdb.connect() as connection:
        change = connection.execute(select(changes)).one()
        stamp = connection.execute(select(sourcestamps)).one()
        buildset = connection.execute(select(buildsets)).one()
        request = connection.execute(select(buildrequests)).one()
    assert (change.repository, change.project) == ("", "")
    assert (stamp.repository, stamp.project) == ("", "")
    assert buildset.complete == 0
    assert (request.priority, request.claimed_at, request.complete) == (0, 0, 0)


def test_ids_are_never_reused(engine_databases: Databases) -> None:
    """A deleted newest row's id is not given again (SQLite needs AUTOINCREMENT for that)."""
    init_databases(engine_databases)
    row = {"buildsetid": 1, "buildername": "x", "submitted_at": 1}
    with engine_databases.schedulerdb.begin() as connection:
        first = connection.execute(buildrequests.insert().values(row)).inserted_primary_key[0]
        connection.execute(buildrequests.delete())
        second = connection.execute(buildrequests.insert().values(row)).inserted_primary_key[0]
    assert second > first


def test_the_masters_claim_filter_has_its_own_index(engine_databases: Databases) -> None:
    init_databases(engine_databases)
    indexes = inspect(engine_databases.schedulerdb).get_indexes("buildrequests")
    assert ["claimed_at"] in [index["column_names"] for index in indexes]


def test_init_twice_keeps_rows(engine_databases: Databases) -> None:
    init_databases(engine_databases)
    jobrequests = buildapi_metadata.tables["jobrequests"]
    with engine_databases.buildapi_db.begin() as connection:
        connection.execute(jobrequests.insert().values(sample_row(jobrequests)))
    init_databases(engine_databases)
    with engine_databases.buildapi_db.connect() as connection:
        count = connection.execute(select(func.count()).select_from(jobrequests)).scalar_one()
    assert count == 1
    assert current_revision(engine_databases.buildapi_db) == "0004"


def test_upgrade_from_0002_weighs_earlier_requests_1(engine_databases: Databases) -> None:
    """Job requests recorded before 0003 count as one build each in the rate limit."""
    engine = engine_databases.buildapi_db
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
    before = Table("jobrequests", MetaData(), autoload_with=engine)
    with engine.begin() as connection:
        connection.execute(before.insert().values(sample_row(before)))
    upgrade_buildapi_db(engine)
    jobrequests = buildapi_metadata.tables["jobrequests"]
    with engine.connect() as connection:
        assert connection.execute(select(jobrequests.c.weight)).scalars().all() == [1]
    assert "write_quotas" in inspect(engine).get_table_names()


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
