"""The relay: hands recorded job requests to the broker, and sends again those that stay
unanswered. The record in BuildAPI's database is the truth and a message only a hint, so any
web process that is alive carries every unfinished job to an answer: the first send as soon as
the web records the job (it wakes the relay), a resend when the answer is late (a message lost
with a broker or an agent), and a failed answer once the job has been sent `max_sends` times
(a message that dead-letters every time must not be sent forever)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

from buildapi.db.engines import Databases
from buildapi.db.queries.jobrequests import (
    JobRow,
    Sending,
    claim_due,
    complete_job,
    forget_sends,
    mark_published,
    release,
)
from buildapi.selfserve import job_events
from buildapi.selfserve.broker import REQUESTS, Broker, BrokerDown
from buildapi.selfserve.confirms import ConfirmedBatches
from buildapi.selfserve.messages import JobRequest, Outcome

log = logging.getLogger(__name__)

BATCH = 500


class Relay:
    """Publishes due job requests in batches from a thread of its own; `wake` after a new
    record makes the next pass start at once, otherwise a pass runs every `every` seconds."""

    def __init__(
        self,
        databases: Databases,
        broker: Broker,
        sending: Sending,
        every: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.databases = databases
        self.broker = broker
        self.sending = sending
        self.every = every
        self.clock = clock
        self.batches = ConfirmedBatches(broker)
        self._wake = threading.Event()
        self._stop = threading.Event()

    def wake(self) -> None:
        self._wake.set()

    def resume(self) -> None:
        """On a broker that lived in this process, a restart lost every message: all
        unanswered jobs are due at once instead of after their wait."""
        if not self.broker.url.startswith("memory://"):
            return
        with self.databases.writer("buildapi_db") as connection:
            due = forget_sends(connection)
        if due:
            log.info("relay: %d unanswered job request(s) will be sent again", due)

    def relay_once(self) -> int:
        """One pass: answer the exhausted jobs, send the due ones; how many were sent."""
        now = int(self.clock())
        with self.databases.writer("buildapi_db") as connection:
            claimed = claim_due(connection, now, self.sending, BATCH)
        if claimed.exhausted:
            self._give_up(claimed.exhausted, now)
        if not claimed.due:
            return 0
        ids = [job.id for job in claimed.due]
        try:
            self.batches.publish_all(REQUESTS, [_message(job) for job in claimed.due])
        except BrokerDown as exc:
            log.warning("relay: broker down (%s); %d job request(s) wait", exc, len(ids))
            with self.databases.writer("buildapi_db") as connection:
                release(connection, ids, now)
            return 0
        with self.databases.writer("buildapi_db") as connection:
            mark_published(connection, ids)
        for job in claimed.due:
            job_events.sent(job.id, job.action, job.who)
        return len(ids)

    def run(self) -> None:
        """Pass after pass until stop(); a full batch means more are due, so no wait."""
        try:
            self.resume()
        except SQLAlchemyError as exc:
            log.warning("relay: cannot read the unanswered jobs: %s", exc)
        while not self._stop.is_set():
            self._wake.clear()
            try:
                sent = self.relay_once()
            except SQLAlchemyError as exc:
                log.warning("relay pass failed: %s", exc)
                sent = 0
            if sent < BATCH:
                self._wake.wait(self.every)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def close(self) -> None:
        self.batches.close()

    def _give_up(self, jobs: list[JobRow], now: int) -> None:
        failure = Outcome(
            errors=True,
            msg=(
                f"no agent answered this request after it was sent {self.sending.max_sends} "
                "times; the agents may be down, or the request may stop them (see the "
                "dead-letter queue)"
            ),
        )
        with self.databases.writer("buildapi_db") as connection:
            for job in jobs:
                message = {"request_id": job.id, "body": failure.as_body()}
                answered = complete_job(connection, job.id, message, now)
                if answered is not None:
                    job_events.answered(job.id, answered, now)
                log.error(
                    "job %d (%s by %s) given up: %s", job.id, job.action, job.who, failure.msg
                )


def _message(job: JobRow) -> dict:
    return JobRequest(job.id, job.action, job.who, job.when, job.what).to_message()
