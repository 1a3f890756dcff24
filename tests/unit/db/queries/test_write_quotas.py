"""The write quota holds with concurrent writers on every engine, and its Retry-After is when
enough weight has left the window."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from buildapi.db.engines import Databases
from buildapi.db.queries.jobrequests import NewJob, Outcome, OverQuota, Recorded, record_job
from buildapi.db.queries.write_quotas import Quota, seconds_until_room
from buildapi.db.schema.buildapi import jobrequests
from buildapi.db.setup import upgrade_buildapi_db

NOW = 1_780_000_000
WRITERS = 12


@pytest.mark.parametrize(
    ("used", "weight", "expected"),
    [
        ([], 5, 0),
        ([(100, 2)], 3, 0),
        ([(100, 2), (110, 3)], 1, 40),  # the oldest 2 leaving is enough
        ([(100, 2), (110, 3)], 4, 50),  # both must leave
        ([(61, 5)], 5, 1),  # never less than a second
    ],
)
def test_seconds_until_room(used: list[tuple[int, int]], weight: int, expected: int) -> None:
    assert seconds_until_room(used, weight, 120, Quota(limit=5, window=60)) == expected


def test_a_weight_over_the_limit_never_fits() -> None:
    with pytest.raises(ValueError, match="over the limit of 5"):
        seconds_until_room([], 6, 120, Quota(limit=5, window=60))


def all_at_once(databases: Databases, job: Callable[[int], NewJob], quota: Quota) -> list[Outcome]:
    """WRITERS threads, each on its own connection, record their job at the same moment."""
    start = threading.Barrier(WRITERS)
    outcomes: list[Outcome] = []

    def writer(number: int) -> None:
        with databases.buildapi_db.connect() as connection:
            start.wait()
            outcomes.append(record_job(connection, job(number), quota))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == WRITERS, "a writer failed"
    return outcomes


def recorded_weight(databases: Databases) -> int:
    with databases.buildapi_db.connect() as connection:
        query = select(func.coalesce(func.sum(jobrequests.c.weight), 0))
        return int(connection.execute(query).scalar_one())


def test_concurrent_writers_never_exceed_the_limit(engine_databases: Databases) -> None:
    upgrade_buildapi_db(engine_databases.buildapi_db)

    def job(number: int) -> NewJob:
        return NewJob("cancel_build", "u", "b", {"bid": number}, NOW, f"key-{number}", weight=3)

    outcomes = all_at_once(engine_databases, job, Quota(limit=10, window=60))
    assert sum(isinstance(outcome, Recorded) for outcome in outcomes) == 3
    assert sum(isinstance(outcome, OverQuota) for outcome in outcomes) == WRITERS - 3
    assert recorded_weight(engine_databases) == 9


def test_concurrent_retries_record_one_job(engine_databases: Databases) -> None:
    upgrade_buildapi_db(engine_databases.buildapi_db)

    def job(_number: int) -> NewJob:
        return NewJob("cancel_build", "u", "b", {"bid": 1}, NOW, "the-key")

    outcomes = all_at_once(engine_databases, job, Quota(limit=2, window=60))
    assert all(isinstance(outcome, Recorded) for outcome in outcomes)
    assert len({outcome.id for outcome in outcomes if isinstance(outcome, Recorded)}) == 1
    assert [isinstance(o, Recorded) and o.created for o in outcomes].count(True) == 1
    assert recorded_weight(engine_databases) == 1
