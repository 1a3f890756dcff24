"""Which scheduler databases BuildAPI accepts, on every engine, and which errors mean "wrong
schema" rather than "database gone"."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from buildapi.db.compatibility import (
    check_scheduler_schema,
    is_schema_mismatch,
    refuse_unsupported_schema,
)
from buildapi.db.engines import Databases
from buildapi.db.setup import init_databases
from buildapi.errors import UnsupportedSchema


def execute(databases: Databases, *statements: str) -> None:
    with databases.schedulerdb.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))


def test_a_database_buildapi_made_is_accepted(engine_databases: Databases) -> None:
    init_databases(engine_databases)
    check_scheduler_schema(engine_databases.schedulerdb)


@pytest.mark.parametrize(
    ("statements", "message"),
    [
        (["DELETE FROM version"], r"version rows are \[none\], not \[6\]"),
        (["UPDATE version SET version = 5"], r"version rows are \[5\], not \[6\]"),
        (["INSERT INTO version (version) VALUES (6)"], r"version rows are \[6, 6\]"),
        (["DROP TABLE version"], "no version table"),
        (
            ["CREATE TABLE migrate_version (repository_id VARCHAR(250), version INTEGER)"],
            "later Buildbot's schema \\(table migrate_version\\)",
        ),
        (
            ["CREATE TABLE buildrequest_claims (brid INTEGER, objectid INTEGER)"],
            "later Buildbot's schema \\(table buildrequest_claims\\)",
        ),
    ],
)
def test_other_schemas_are_refused_in_one_line(
    engine_databases: Databases, statements: list[str], message: str
) -> None:
    init_databases(engine_databases)
    execute(engine_databases, *statements)
    with pytest.raises(UnsupportedSchema, match=message) as refused:
        check_scheduler_schema(engine_databases.schedulerdb)
    assert "\n" not in refused.value.msg
    assert "Buildbot 0.8.2's scheduler schema (version 6)" in refused.value.msg


def test_an_unreachable_database_is_not_refused_at_start(caplog: pytest.LogCaptureFixture) -> None:
    engine = create_engine("postgresql+psycopg://u:p@127.0.0.1:1/x")
    refuse_unsupported_schema(engine)
    assert "cannot check the scheduler database's schema now" in caplog.text


def test_missing_tables_and_columns_are_schema_mismatches(engine_databases: Databases) -> None:
    init_databases(engine_databases)
    for statement in ("SELECT claimed_at FROM buildrequest_claims", "SELECT nope FROM builds"):
        with pytest.raises(Exception) as failed, engine_databases.schedulerdb.connect() as c:
            c.execute(text(statement))
        assert is_schema_mismatch(failed.value), failed.value


def test_a_lost_connection_is_not_a_schema_mismatch() -> None:
    engine = create_engine("postgresql+psycopg://u:p@127.0.0.1:1/x")
    with pytest.raises(Exception) as failed, engine.connect():
        pass
    assert not is_schema_mismatch(failed.value)
    assert not is_schema_mismatch(ValueError("no such column: x"))
