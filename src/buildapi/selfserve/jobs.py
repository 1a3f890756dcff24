"""Job requests from record to result. The web records each request durably and answers; the
relay (relay.py) hands it to the broker and sends again what stays unanswered; the agents'
answers complete the job. Nothing accepted is ever lost, and a request sent twice is harmless
because the agent acts once per job id."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from buildapi.db.engines import Databases
from buildapi.db.queries.jobrequests import (
    KeyReused,
    NewJob,
    OverQuota,
    Sending,
    complete_job,
    record_job,
)
from buildapi.db.queries.write_quotas import Quota
from buildapi.errors import RateLimited, Unavailable, Unprocessable
from buildapi.selfserve import job_events
from buildapi.selfserve.broker import (
    FINISHED,
    Broker,
    Message,
    QueueConsumer,
    dead_letter,
    retry_later,
)
from buildapi.selfserve.relay import Relay

log = logging.getLogger(__name__)

UNRECORDABLE = "Couldn't create JobRequest row; nothing was done"
RATE_WINDOW_SECONDS = 60


class JobPipeline:
    """The web side of the pipeline: submit, the relay, and the results consumer."""

    def __init__(
        self,
        databases: Databases,
        broker: Broker,
        relay_every: float,
        sending: Sending,
        writes_per_minute: int,
        clock: Callable[[], float] = time.time,
        before_answer: Callable[[], None] = lambda: None,
    ) -> None:
        """`before_answer` runs before each answer is stored: the agent's changes are
        committed by then, so a cache invalidated there cannot keep what they changed."""
        self.databases = databases
        self.broker = broker
        self.relay = Relay(databases, broker, sending, relay_every, clock)
        self.quota = Quota(writes_per_minute, RATE_WINDOW_SECONDS)
        self.clock = clock
        self.before_answer = before_answer
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._consumer: QueueConsumer | None = None

    def submit(self, job: NewJob) -> int:
        """Record within the user's quota and wake the relay; the broker is not waited for,
        nor needed. A retry (same idempotency key and request) gets the first id."""
        try:
            with self.databases.writer("buildapi_db") as connection:
                outcome = record_job(connection, job, self.quota)
        except SQLAlchemyError as exc:
            log.error("cannot record a %s job request for %s: %s", job.action, job.who, exc)
            raise Unavailable(UNRECORDABLE) from exc
        if isinstance(outcome, KeyReused):
            raise Unprocessable(
                f"Idempotency-Key {job.idempotency_key!r} was used for a different request"
                f" (job {outcome.id})"
            )
        if isinstance(outcome, OverQuota):
            raise RateLimited(
                f"{job.who} made requests counting {outcome.used} in the last minute and this"
                f" one counts {job.weight}; the limit is {self.quota.limit}",
                outcome.retry_after,
            )
        if outcome.created:
            job_events.recorded(outcome.id, job)
            self.relay.wake()
        return outcome.id

    def on_result(self, body: Any, message: Message) -> None:
        """A `finished` message: store it on its job, then ack."""
        request_id = body.get("request_id") if isinstance(body, dict) else None
        if not isinstance(request_id, int) or not isinstance(body.get("body"), dict):
            log.error("result without a request_id or body, kept as a dead letter: %r", body)
            dead_letter(self.broker, body, "result without request_id or body", message)
            return
        now = self.clock()
        self.before_answer()
        try:
            with self.databases.writer("buildapi_db") as connection:
                answer = complete_job(connection, request_id, body, int(now))
        except SQLAlchemyError as exc:
            log.warning("cannot store the result of job %s (%s); retrying", request_id, exc)
            retry_later(self.broker, FINISHED, body, message, self._stop)
            return
        if answer is None:
            log.warning("result for unknown job %s dropped", request_id)
        else:
            job_events.answered(request_id, answer, now)
        message.ack()

    def start(self) -> None:
        """Run the results consumer and the relay in background threads."""
        self._consumer = QueueConsumer(self.broker, FINISHED, self.on_result)
        self._threads = [
            threading.Thread(target=self._consumer.run, name="job-results", daemon=True),
            threading.Thread(target=self.relay.run, name="job-relay", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.relay.stop()
        if self._consumer is not None:
            self._consumer.stop()
        for thread in self._threads:
            thread.join(timeout=10)
        self.relay.close()
        self.broker.close()
