"""Times rounded to whole seconds: SQLite's SQL and the Python rule agree, halves away from 0."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Float, MetaData, Table, create_engine, insert, select

from buildapi.db.queries.seconds import round_seconds, whole_seconds

VALUES = {
    1_700_000_000.4123: 1_700_000_000,
    1_700_000_000.6: 1_700_000_001,
    1_700_000_002.5: 1_700_000_003,  # MySQL's INTEGER insert: halves away from zero
    1_700_000_003.5: 1_700_000_004,
    1_700_000_004: 1_700_000_004,
    0.0: 0,
    -1.5: -2,
}


@pytest.mark.parametrize(("stored", "served"), VALUES.items())
def test_python_rounds_as_mysql_stores(stored: float, served: int) -> None:
    assert round_seconds(stored) == served


def test_sqlite_rounds_the_same_way() -> None:
    table = Table("times", MetaData(), Column("at", Float))
    engine = create_engine("sqlite://")
    table.metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(table), [{"at": stored} for stored in VALUES] + [{"at": None}])
        found = connection.execute(select(table.c.at, whole_seconds(table.c.at))).all()
    assert dict(found) == {**VALUES, None: None}
    assert all(type(served) is int for stored, served in found if stored is not None)
