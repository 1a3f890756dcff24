"""The rows metrics read: an answer stored once (and what it answered), agents seen lately,
build requests pending and claimed per builder."""

from __future__ import annotations

from sqlalchemy import insert

from buildapi.db.engines import Databases
from buildapi.db.queries.heartbeats import count_agents_seen
from buildapi.db.queries.jobrequests import (
    NewJob,
    complete_job,
    count_unanswered,
    mark_published,
    record_job,
)
from buildapi.db.queries.live import claimed_by_builder, pending_by_builder
from buildapi.db.queries.write_quotas import Quota
from buildapi.db.schema.buildapi import agent_heartbeats
from buildapi.db.schema.scheduler import buildrequests, buildsets


def test_an_answer_is_stored_once_and_says_what_it_answered(databases: Databases) -> None:
    job = NewJob("cancel_build", "a@example.com", "try", {"bid": 4}, when=1000)
    with databases.buildapi_db.connect() as connection:
        job_id = record_job(connection, job, Quota(60, 60)).id  # type: ignore[union-attr]
        first = complete_job(connection, job_id, {"body": {"msg": "ok"}}, now=1012)
        again = complete_job(connection, job_id, {"body": {"msg": "again"}}, now=1030)
        missing = complete_job(connection, job_id + 1, {"body": {}}, now=1030)
    assert first is not None and again is not None
    assert (first.action, first.who, first.when, first.first) == (
        "cancel_build",
        "a@example.com",
        1000,
        True,
    )
    assert again.first is False
    assert missing is None


def test_agents_are_counted_by_their_last_heartbeat(databases: Databases) -> None:
    rows = [("agent-a", 100), ("agent-b", 150), ("agent-c", 200)]
    with databases.buildapi_db.begin() as connection:
        for agent, seen_at in rows:
            connection.execute(
                insert(agent_heartbeats).values(
                    agent=agent, host="h", pid=1, started_at=0, seen_at=seen_at
                )
            )
    with databases.buildapi_db.connect() as connection:
        assert [count_agents_seen(connection, since) for since in (0, 150, 151, 201)] == [
            3,
            2,
            1,
            0,
        ]


def test_pending_and_claimed_requests_are_counted_per_builder(databases: Databases) -> None:
    requests = [
        # builder, claimed_at, complete
        ("linux build", 0, 0),
        ("linux build", 0, 0),
        ("linux build", 50, 0),
        ("linux build", 50, 1),
        ("mac test", 0, 0),
        ("mac test", 0, 1),
        ("win test", 60, 0),
    ]
    with databases.schedulerdb.begin() as connection:
        connection.execute(
            insert(buildsets).values(
                id=1, external_idstring="", reason="r", sourcestampid=1, submitted_at=1, complete=0
            )
        )
        for number, (builder, claimed_at, complete) in enumerate(requests, start=1):
            connection.execute(
                insert(buildrequests).values(
                    id=number,
                    buildsetid=1,
                    buildername=builder,
                    priority=0,
                    claimed_at=claimed_at,
                    complete=complete,
                    submitted_at=1,
                )
            )
    with databases.schedulerdb.connect() as connection:
        assert pending_by_builder(connection) == {"linux build": 2, "mac test": 1}
        assert claimed_by_builder(connection) == {"linux build": 1, "win test": 1}


def test_unanswered_jobs_are_counted_by_state_and_answered_ones_not(databases: Databases) -> None:
    jobs = [NewJob("cancel_build", "a@example.com", "try", {"bid": n}, when=1000) for n in range(4)]
    with databases.buildapi_db.connect() as connection:
        ids = [record_job(connection, job, Quota(60, 60)).id for job in jobs]  # type: ignore[union-attr]
        mark_published(connection, ids[1:])
        complete_job(connection, ids[3], {"body": {}}, now=1001)
        assert count_unanswered(connection) == {"recorded": 1, "published": 2}
