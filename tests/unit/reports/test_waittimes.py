"""Wait times over a tiny, exact dataset, on every database engine."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from sqlalchemy import Connection, insert

from buildapi.db.engines import Databases
from buildapi.db.schema.scheduler import (
    buildrequests,
    builds,
    buildsets,
    changes,
    sourcestamp_changes,
    sourcestamps,
)
from buildapi.db.setup import init_databases
from buildapi.errors import BadInput, NotFound
from buildapi.layout import FarmLayout
from buildapi.reports.waittimes import BlockParams, pool_wait_times
from buildapi.reports.window import Window

T0 = 1_780_000_000
BUILD_MASTER = "buildbot-master01.bb.releng.example.com:/builds/buildbot/build1/master"
TEST_MASTER = "buildbot-master20.bb.releng.example.com:/builds/buildbot/tests1-linux/master"
LINUX = "Linux x86-64 mozilla-inbound build"
WINDOWS = "WINNT 5.2 mozilla-inbound build"
_ids = itertools.count(1)


def add_request(
    connection: Connection,
    buildername: str,
    submitted: int,
    *,
    pushed: int | None = None,
    started: int | None = None,
    master: str | None = BUILD_MASTER,
    reason: str = "scheduler",
    comments: str = "Bug 1 - fix",
) -> None:
    """One buildset with one request; a change pushed at `pushed`; a build started at `started`."""
    ident = next(_ids)
    connection.execute(insert(sourcestamps).values(id=ident, branch="integration/mozilla-inbound"))
    if pushed is not None:
        connection.execute(
            insert(changes).values(
                changeid=ident, author="a@example.com", comments=comments, when_timestamp=pushed
            )
        )
        connection.execute(insert(sourcestamp_changes).values(sourcestampid=ident, changeid=ident))
    connection.execute(
        insert(buildsets).values(
            id=ident, sourcestampid=ident, submitted_at=submitted, reason=reason, complete=0
        )
    )
    connection.execute(
        insert(buildrequests).values(
            id=ident,
            buildsetid=ident,
            buildername=buildername,
            submitted_at=submitted,
            claimed_at=started or 0,
            claimed_by_name=master if started else None,
            complete=0,
        )
    )
    if started is not None:
        connection.execute(insert(builds).values(number=ident, brid=ident, start_time=started))


@pytest.fixture
def report(engine_databases: Databases, layout: FarmLayout) -> Any:
    init_databases(engine_databases)
    with engine_databases.schedulerdb.begin() as connection:
        # Interval 0 (first hour): waits of 5, 20 and 200 minutes, one of them without a change.
        add_request(connection, LINUX, T0 + 60, pushed=T0, started=T0 + 300)
        add_request(connection, WINDOWS, T0 + 60, pushed=T0 + 60, started=T0 + 60 + 1200)
        add_request(connection, LINUX, T0 + 100, started=T0 + 100 + 12000)
        # Interval 1: a wait of 31 minutes for a builder no rule knows; one still waiting.
        add_request(
            connection,
            "Linux x86-64 mozilla-inbound mystery",
            T0 + 3700,
            pushed=T0 + 3600,
            started=T0 + 3600 + 1860,
        )
        add_request(connection, WINDOWS, T0 + 3700, pushed=T0 + 3650, master=None)
        # Listed but not counted: an l10n repack.
        add_request(
            connection, "Firefox mozilla-inbound linux l10n nightly-1", T0 + 200, started=T0 + 400
        )
        # Left out: a rebuild, DONTBUILD, another pool's master, outside the window, a fuzzer.
        add_request(
            connection,
            LINUX,
            T0 + 10,
            pushed=T0,
            started=T0 + 20,
            reason="The web-page 'rebuild' button was pressed by someone",
        )
        add_request(connection, LINUX, T0 + 10, pushed=T0, started=T0 + 20, comments="DONTBUILD")
        add_request(connection, LINUX, T0 + 10, pushed=T0, started=T0 + 20, master=TEST_MASTER)
        add_request(connection, LINUX, T0 + 7300, pushed=T0 + 7200, started=T0 + 7300)
        add_request(connection, "fuzzer-linux64", T0 + 10, started=T0 + 20)
    window = Window(T0, T0 + 7200, 3600)
    with engine_databases.schedulerdb.connect() as connection:
        return pool_wait_times(connection, layout, "buildpool", window, BlockParams.checked(15, 60))


def test_exact_counts(report: dict[str, Any]) -> None:
    assert report["total"] == 4
    assert report["wt"] == {
        "0": {"total": 1, "intervals": [1, 0]},
        "15": {"total": 1, "intervals": [1, 0]},
        "30": {"total": 1, "intervals": [0, 1]},
        "45": {"total": 0, "intervals": [0, 0]},
        "60": {"total": 1, "intervals": [1, 0]},
    }
    assert report["platforms"] == {
        "linux-mock": {
            "total": 2,
            "wt": {
                "0": {"total": 1, "intervals": [1, 0]},
                "15": {"total": 0, "intervals": [0, 0]},
                "30": {"total": 0, "intervals": [0, 0]},
                "45": {"total": 0, "intervals": [0, 0]},
                "60": {"total": 1, "intervals": [1, 0]},
            },
        },
        "other": {
            "total": 1,
            "wt": {
                "0": {"total": 0, "intervals": [0, 0]},
                "15": {"total": 0, "intervals": [0, 0]},
                "30": {"total": 1, "intervals": [0, 1]},
            },
        },
        "win2k8": {
            "total": 1,
            "wt": {"0": {"total": 0, "intervals": [0, 0]}, "15": {"total": 1, "intervals": [1, 0]}},
        },
    }


def test_lists_and_counters(report: dict[str, Any]) -> None:
    assert report["no_changes"] == 1
    assert report["pending"] == [WINDOWS]
    assert report["otherplatforms"] == ["Linux x86-64 mozilla-inbound mystery"]
    assert report["unknownbuilders"] == ["Firefox mozilla-inbound linux l10n nightly-1"]
    assert report["masters"][0] == BUILD_MASTER and TEST_MASTER not in report["masters"]
    assert (report["mpb"], report["maxb"], report["int_size"]) == (15, 60, 3600)


def test_block_parameters() -> None:
    assert BlockParams.checked(None, None) == BlockParams(15, 120)
    assert BlockParams.checked(20, 50) == BlockParams(20, 40)
    assert BlockParams.checked(15, 0).block(10_000) == 165
    with pytest.raises(BadInput):
        BlockParams.checked(0, 60)


def test_unknown_pool(databases: Databases, layout: FarmLayout) -> None:
    with databases.schedulerdb.connect() as connection, pytest.raises(NotFound):
        pool_wait_times(connection, layout, "deep", Window(T0, T0 + 60, 5), BlockParams(15, 0))
