"""The relay gives up on every job sent `max_sends` times in one pass, answering each."""

from __future__ import annotations

from sqlalchemy import update

from buildapi.config import Settings
from buildapi.db.engines import Databases
from buildapi.db.queries.jobrequests import NewJob, Recorded, Sending, get_job, record_job
from buildapi.db.queries.write_quotas import Quota
from buildapi.db.schema.buildapi import jobrequests
from buildapi.selfserve.broker import Broker
from buildapi.selfserve.relay import Relay

NOW = 1_780_000_000
SENDING = Sending(resend_after=60, max_sends=2)


def test_every_exhausted_job_is_answered_as_failed(
    settings: Settings, databases: Databases
) -> None:
    with databases.buildapi_db.connect() as connection:
        ids = []
        for number in range(3):
            job = NewJob("cancel_request", "dev@example.com", "try", {"brid": number}, NOW)
            outcome = record_job(connection, job, Quota(limit=100, window=60))
            assert isinstance(outcome, Recorded)
            ids.append(outcome.id)
        # each was sent as often as allowed, and the last wait is long over
        with connection.begin():
            connection.execute(
                update(jobrequests)
                .where(jobrequests.c.id.in_(ids))
                .values(attempts=SENDING.max_sends, sent_at=NOW - 3600)
            )
    relay = Relay(databases, Broker(settings), SENDING, every=60, clock=lambda: NOW)
    assert relay.relay_once() == 0
    with databases.buildapi_db.connect() as connection:
        answered = [get_job(connection, job_id) for job_id in ids]
    for job in answered:
        assert job is not None and job.completed_at == NOW
        assert job.complete_data["body"]["errors"] is True
        assert (
            "no agent answered this request after it was sent 2 times"
            in (job.complete_data["body"]["msg"])
        )
