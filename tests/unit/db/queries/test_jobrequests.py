"""The relay's claims on every engine: a job is sent once when recorded, again only after its
wait (doubling), never by two relays at once, again at once after a release or an embedded
restart, and handed back as exhausted after `max_sends` sends."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from buildapi.db.engines import Databases
from buildapi.db.queries.jobrequests import (
    NewJob,
    Recorded,
    Sending,
    claim_due,
    complete_job,
    forget_sends,
    mark_published,
    record_job,
    release,
)
from buildapi.db.queries.write_quotas import Quota
from buildapi.db.schema.buildapi import jobrequests
from buildapi.db.setup import upgrade_buildapi_db

NOW = 1_780_000_000
SENDING = Sending(resend_after=60, max_sends=4)
QUOTA = Quota(limit=1000, window=60)


@pytest.fixture
def jobs(engine_databases: Databases) -> Databases:
    upgrade_buildapi_db(engine_databases.buildapi_db)
    return engine_databases


def record(databases: Databases, count: int = 1) -> list[int]:
    ids = []
    with databases.buildapi_db.connect() as connection:
        for number in range(count):
            job = NewJob("cancel_request", "dev@example.com", "try", {"brid": number}, NOW)
            outcome = record_job(connection, job, QUOTA)
            assert isinstance(outcome, Recorded)
            ids.append(outcome.id)
    return ids


def claim(databases: Databases, now: int, limit: int = 100) -> tuple[list[int], list[int]]:
    with databases.buildapi_db.connect() as connection:
        claimed = claim_due(connection, now, SENDING, limit)
    return [job.id for job in claimed.due], [job.id for job in claimed.exhausted]


def sends(databases: Databases, job_id: int) -> tuple[int, int | None, str]:
    query = select(jobrequests.c.attempts, jobrequests.c.sent_at, jobrequests.c.state).where(
        jobrequests.c.id == job_id
    )
    with databases.buildapi_db.connect() as connection:
        return tuple(connection.execute(query).one())  # type: ignore[return-value]


def test_a_new_job_is_due_once_and_again_after_doubling_waits(jobs: Databases) -> None:
    [job] = record(jobs)
    assert claim(jobs, NOW) == ([job], [])
    assert sends(jobs, job) == (1, NOW, "recorded")
    sent = NOW
    for wait in (60, 120, 240):  # after the first, second and third sends
        assert claim(jobs, sent + wait - 1) == ([], [])
        sent += wait
        assert claim(jobs, sent) == ([job], [])
    assert sends(jobs, job)[:2] == (SENDING.max_sends, sent)
    assert claim(jobs, sent + 479) == ([], [])
    # the fourth send went unanswered for its whole wait: given up, not sent a fifth time
    assert claim(jobs, sent + 480) == ([], [job])
    assert claim(jobs, sent + 10**6) == ([], [job])


def test_answered_and_published_jobs(jobs: Databases) -> None:
    first, second = record(jobs, 2)
    assert claim(jobs, NOW) == ([first, second], [])
    with jobs.buildapi_db.connect() as connection:
        mark_published(connection, [first, second])
        complete_job(connection, first, {"request_id": first, "body": {}}, NOW + 1)
    assert sends(jobs, first)[2] == "complete"
    assert sends(jobs, second)[2] == "published"
    # a published job without an answer is still sent again; an answered one never
    assert claim(jobs, NOW + 60) == ([second], [])
    with jobs.buildapi_db.connect() as connection:
        mark_published(connection, [first])
    assert sends(jobs, first)[2] == "complete"


def test_a_released_claim_is_due_at_once_and_does_not_count(jobs: Databases) -> None:
    [job] = record(jobs)
    assert claim(jobs, NOW) == ([job], [])
    with jobs.buildapi_db.connect() as connection:
        release(connection, [job], NOW)
    assert sends(jobs, job) == (0, None, "recorded")
    assert claim(jobs, NOW + 1) == ([job], [])


def test_after_an_embedded_restart_every_unanswered_job_is_due(jobs: Databases) -> None:
    sent, answered = record(jobs, 2)
    claim(jobs, NOW)
    with jobs.buildapi_db.connect() as connection:
        complete_job(connection, answered, {"request_id": answered, "body": {}}, NOW)
        assert forget_sends(connection) == 1
    assert claim(jobs, NOW + 1) == ([sent], [])
    assert sends(jobs, sent)[0] == 2


def test_the_oldest_are_claimed_first_up_to_the_limit(jobs: Databases) -> None:
    ids = record(jobs, 5)
    assert claim(jobs, NOW, limit=3) == (ids[:3], [])
    assert claim(jobs, NOW, limit=3) == (ids[3:], [])


def test_two_relays_at_once_send_each_job_once(jobs: Databases) -> None:
    ids = record(jobs, 40)
    start = threading.Barrier(2)
    taken: list[list[int]] = []

    def relay() -> None:
        start.wait()
        mine: list[int] = []
        for _ in range(10):
            mine += claim(jobs, NOW, limit=5)[0]
        taken.append(mine)

    threads = [threading.Thread(target=relay) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(taken) == 2, "a relay failed"
    assert sorted(taken[0] + taken[1]) == ids
