"""Completing buildsets: the results a Buildbot 0.8 master gives them."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from buildapi.db.engines import Databases
from buildapi.db.queries.buildsets import (
    NewBuildset,
    complete_buildsets,
    insert_buildset,
    insert_sourcestamp,
)
from buildapi.db.schema.scheduler import buildrequests, buildsets
from buildapi.db.setup import init_databases

NOW = 1_780_000_000.5


def order(databases: Databases, results: list[int | None]) -> int:
    """A buildset with one request per entry of `results`, completed with it (None: open)."""
    with databases.schedulerdb.begin() as connection:
        ssid = insert_sourcestamp(connection, "try", "abc")
        names = [f"builder {i}" for i in range(len(results))]
        bsid, brids = insert_buildset(
            connection, NewBuildset("test", 1_780_000_000, names, {}, sourcestampid=ssid)
        )
        for brid, result in zip(brids, results, strict=True):
            if result is not None:
                connection.execute(
                    update(buildrequests)
                    .where(buildrequests.c.id == brid)
                    .values(complete=1, results=result, complete_at=NOW)
                )
    return bsid


def complete(databases: Databases, bsid: int) -> tuple[list[int], tuple]:
    with databases.schedulerdb.begin() as connection:
        done = complete_buildsets(connection, [bsid, bsid], NOW)
        row = connection.execute(
            select(buildsets.c.complete, buildsets.c.complete_at, buildsets.c.results).where(
                buildsets.c.id == bsid
            )
        ).one()
    return done, tuple(row)


@pytest.mark.parametrize(
    ("results", "expected"),
    [
        ([0, 0], 0),
        ([0, 1], 0),  # warnings still make a successful buildset
        ([1], 0),
        ([], 0),
        ([0, 2], 2),
        ([1, 4], 2),
        ([0, 6], 2),  # a cancelled request fails its buildset
    ],
)
def test_results_are_success_or_failure(
    engine_databases: Databases, results: list[int], expected: int
) -> None:
    init_databases(engine_databases)
    bsid = order(engine_databases, results)
    done, row = complete(engine_databases, bsid)
    assert done == [bsid]
    assert row == (1, pytest.approx(NOW, abs=0.5), expected)


def test_a_buildset_with_open_requests_stays_open(databases: Databases) -> None:
    bsid = order(databases, [0, None])
    assert complete(databases, bsid) == ([], (0, None, None))


def test_a_complete_buildset_is_left_as_it_is(databases: Databases) -> None:
    bsid = order(databases, [0])
    complete(databases, bsid)
    with databases.schedulerdb.begin() as connection:
        assert complete_buildsets(connection, [bsid], NOW + 60) == []
