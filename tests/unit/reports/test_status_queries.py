"""statusdb report SQL on every engine: builder averages and test-step sums on known rows."""

from __future__ import annotations

import datetime

from buildapi.db.engines import Databases
from buildapi.db.queries import report_status as queries
from buildapi.db.schema.status import builders, builds, slaves, steps
from buildapi.db.setup import init_databases

T0 = 1_780_000_000


def at(offset: int) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(T0 + offset, datetime.UTC).replace(tzinfo=None)


def test_averages_and_test_time(engine_databases: Databases) -> None:
    init_databases(engine_databases)
    name = "Ubuntu VM 12.04 x64 mozilla-central opt test xpcshell"
    with engine_databases.statusdb.begin() as connection:
        connection.execute(slaves.insert(), [{"id": 1, "name": "a-1"}, {"id": 2, "name": "a-2"}])
        connection.execute(
            builders.insert(), [{"id": 1, "name": name, "master_id": 1, "category": "m-c"}]
        )
        connection.execute(
            builds.insert(),
            [
                {
                    "id": i,
                    "buildnumber": i,
                    "builder_id": 1,
                    "slave_id": slave,
                    "master_id": 1,
                    "starttime": at(start),
                    "endtime": at(end),
                    "result": result,
                }
                for i, slave, start, end, result in [
                    (1, 1, 0, 600, 0),
                    (2, 2, 100, 1300, 1),
                    (3, 1, 2000, 2300, 2),  # a failure: counted, but not a test run
                ]
            ],
        )
        connection.execute(
            steps.insert(),
            [
                {
                    "name": step,
                    "build_id": build,
                    "order": order,
                    "starttime": at(start),
                    "endtime": at(end),
                }
                for build, order, step, start, end in [
                    (1, 1, "compile", 0, 100),
                    (1, 2, "xpcshell", 100, 500),
                    (2, 1, "xpcshell", 100, 700),
                    (2, 2, "mochitest-plain-1", 700, 1300),
                    (3, 1, "xpcshell", 2000, 2300),
                ]
            ],
        )
    with engine_databases.statusdb.connect() as connection:
        (summary,) = queries.builder_summaries(connection, T0, T0 + 3600)
        runs = queries.testrun_averages(connection, T0, T0 + 3600)
        assert queries.testrun_averages(connection, T0, T0 + 3600, "other") == []
    assert (summary.name, summary.total, summary.slaves) == (name, 3, 2)
    assert round(summary.avg_duration) == 700  # (600 + 1200 + 300) / 3
    assert summary.results == {0: 1, 1: 1, 2: 1}
    (run,) = runs
    assert (run.buildername, round(run.total), round(run.test)) == (name, 900, 800)


def test_slave_and_idle_builds_come_as_whole_utc_epoch_seconds(engine_databases: Databases) -> None:
    init_databases(engine_databases)
    with engine_databases.statusdb.begin() as connection:
        connection.execute(slaves.insert(), [{"id": 1, "name": "a-1"}])
        connection.execute(
            builders.insert(), [{"id": 1, "name": "idle b", "master_id": 1, "category": "idle"}]
        )
        connection.execute(
            builds.insert(),
            [
                {
                    "id": i,
                    "buildnumber": i,
                    "builder_id": 1,
                    "slave_id": 1,
                    "master_id": 1,
                    "starttime": at(start),
                    "endtime": None if end is None else at(end),
                    "result": None if end is None else 0,
                }
                for i, start, end in [(1, 10, 610), (2, 700, None)]
            ],
        )
    with engine_databases.statusdb.connect() as connection:
        found = list(queries.slave_builds(connection, T0, T0 + 3600))
        idle = list(queries.idle_builds(connection, T0, T0 + 3600))
    assert [(b.slave_name, b.starttime, b.endtime, b.result) for b in found] == [
        ("a-1", T0 + 10, T0 + 610, 0),
        ("a-1", T0 + 700, None, None),
    ]
    assert all(type(b.starttime) is int for b in found)
    assert [(b.buildername, b.starttime, b.endtime) for b in idle] == [
        ("idle b", T0 + 10, T0 + 610)
    ]
