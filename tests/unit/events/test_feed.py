"""The change feed on hand-written rows: each change is told once, late commits within the
lookback too, a burst becomes one `reset`, and job answers are noticed."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import insert, update

from buildapi.db.engines import Databases
from buildapi.db.schema.buildapi import jobrequests
from buildapi.db.schema.scheduler import buildrequests, builds, buildsets, sourcestamps
from buildapi.db.setup import init_databases
from buildapi.events import feed as feed_module
from buildapi.events.feed import FarmFeed
from buildapi.vocabulary import Result

REVISION = "ab" * 20
BRANCHES = ["mozilla-inbound", "try"]


@pytest.fixture
def feed(databases: Databases) -> FarmFeed:
    init_databases(databases)
    with databases.schedulerdb.begin() as connection:
        connection.execute(
            insert(sourcestamps).values(
                id=1, branch="integration/mozilla-inbound", revision=REVISION
            )
        )
        connection.execute(insert(buildsets).values(id=1, sourcestampid=1, submitted_at=1000))
    add_request(databases, 1, 1000)  # history: never told
    started = FarmFeed(databases, lambda: BRANCHES)
    assert started.poll() == []
    return started


def add_request(databases: Databases, brid: int, at: float) -> None:
    with databases.schedulerdb.begin() as connection:
        connection.execute(
            insert(buildrequests).values(
                id=brid, buildsetid=1, buildername="linux64 build", submitted_at=at
            )
        )


def start_build(databases: Databases, build_id: int, brid: int, at: float) -> None:
    with databases.schedulerdb.begin() as connection:
        connection.execute(
            update(buildrequests).where(buildrequests.c.id == brid).values(claimed_at=at)
        )
        connection.execute(
            insert(builds).values(id=build_id, number=build_id, brid=brid, start_time=at)
        )


def finish(databases: Databases, brid: int, result: int, at: float) -> None:
    with databases.schedulerdb.begin() as connection:
        connection.execute(
            update(buildrequests)
            .where(buildrequests.c.id == brid)
            .values(complete=1, complete_at=at, results=result)
        )
        connection.execute(update(builds).where(builds.c.brid == brid).values(finish_time=at))


def test_a_request_from_submission_to_result(feed: FarmFeed, databases: Databases) -> None:
    add_request(databases, 2, 2000)
    (submitted,) = feed.poll()
    assert submitted == (
        "request",
        {
            "type": "request",
            "request_id": 2,
            "branch": "mozilla-inbound",
            "revision": REVISION,
            "buildername": "linux64 build",
            "state": "pending",
            "time": 2000,
        },
    )
    start_build(databases, 7, 2, 2010)
    (started,) = feed.poll()
    assert started[0] == "build"
    assert started[1]["build_id"] == 7 and started[1]["request_ids"] == [2]
    assert started[1]["state"] == "running" and "result" not in started[1]
    finish(databases, 2, Result.FAILURE, 2100)
    told = {(name, data["state"], data.get("result")) for name, data in feed.poll()}
    assert told == {("request", "finished", Result.FAILURE), ("build", "finished", Result.FAILURE)}
    assert feed.poll() == []


def test_a_cancelled_request_is_told_as_cancelled(feed: FarmFeed, databases: Databases) -> None:
    add_request(databases, 2, 2000)
    feed.poll()
    finish(databases, 2, Result.CANCELLED, 2001)
    ((name, data),) = feed.poll()
    assert (name, data["state"], data["result"]) == ("request", "cancelled", Result.CANCELLED)


def test_a_late_commit_within_the_lookback_is_told_once(
    feed: FarmFeed, databases: Databases
) -> None:
    add_request(databases, 3, 2000)
    feed.poll()
    add_request(databases, 2, 1990)  # stamped before the newest told, committed after it
    assert [data["request_id"] for _, data in feed.poll()] == [2]
    add_request(databases, 4, 2000 + feed_module.LOOKBACK_SECONDS + 5)
    assert [data["request_id"] for _, data in feed.poll()] == [4]
    assert feed.poll() == []


def test_a_burst_is_one_reset_then_the_feed_goes_on(
    feed: FarmFeed, databases: Databases, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feed_module, "MOST_PER_POLL", 3)
    for brid in range(2, 6):
        add_request(databases, brid, 2000 + brid)
    assert [name for name, _ in feed.poll()] == ["reset"]
    add_request(databases, 9, 3000)
    assert [data["request_id"] for _, data in feed.poll()] == [9]


def add_job(databases: Databases, job_id: int) -> None:
    with databases.buildapi_db.begin() as connection:
        connection.execute(
            insert(jobrequests).values(
                id=job_id,
                action="cancel_request",
                who="a@example.com",
                when=1,
                what="{}",
                state="published",
                branch="try",
                attempts=1,
            )
        )


def answer(databases: Databases, job_id: int) -> None:
    body = {"request_id": job_id, "body": {"errors": False, "msg": "Ok"}}
    with databases.buildapi_db.begin() as connection:
        connection.execute(
            update(jobrequests)
            .where(jobrequests.c.id == job_id)
            .values(state="complete", completed_at=5, complete_data=json.dumps(body))
        )


def test_answered_jobs_are_told_whether_seen_open_or_not(
    feed: FarmFeed, databases: Databases
) -> None:
    add_job(databases, 1)
    assert feed.poll() == []
    answer(databases, 1)
    add_job(databases, 2)  # recorded and answered between two polls
    answer(databases, 2)
    told = feed.poll()
    assert [data["job_id"] for _, data in told] == [1, 2]
    assert told[0] == (
        "job",
        {
            "type": "job",
            "job_id": 1,
            "action": "cancel_request",
            "branch": "try",
            "state": "complete",
            "errors": False,
            "msg": "Ok",
        },
    )
    assert feed.poll() == []


def test_feeds_that_saw_the_same_changes_have_the_same_watermark(
    feed: FarmFeed, databases: Databases
) -> None:
    other = FarmFeed(databases, lambda: BRANCHES)
    other.poll()
    before = feed.watermark
    assert other.watermark == before
    add_request(databases, 2, 2000)
    feed.poll()
    other.poll()
    assert feed.watermark == other.watermark != before
    feed.poll()
    assert feed.watermark == other.watermark
