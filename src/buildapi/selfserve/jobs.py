"""Job requests from record to result. The web records each request durably before anything
else, then hands it to the broker; what the broker did not take stays `recorded` and the outbox
sends it again; the agents' answers complete the job. Nothing accepted is ever lost, and a
request sent twice is harmless because the agent acts once per job id."""

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
    complete_job,
    mark_published,
    record_job,
    unpublished_jobs,
)
from buildapi.db.queries.write_quotas import Quota
from buildapi.errors import RateLimited, Unavailable, Unprocessable
from buildapi.selfserve.broker import (
    FINISHED,
    REQUESTS,
    Broker,
    BrokerDown,
    Message,
    QueueConsumer,
    dead_letter,
    retry_later,
)
from buildapi.selfserve.messages import JobRequest

log = logging.getLogger(__name__)

UNRECORDABLE = "Couldn't create JobRequest row; nothing was done"
OUTBOX_BATCH = 500
RATE_WINDOW_SECONDS = 60


class JobPipeline:
    """The web side of the pipeline: submit, the outbox, and the results consumer."""

    def __init__(
        self,
        databases: Databases,
        broker: Broker,
        outbox_every: float,
        writes_per_minute: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.databases = databases
        self.broker = broker
        self.outbox_every = outbox_every
        self.quota = Quota(writes_per_minute, RATE_WINDOW_SECONDS)
        self.clock = clock
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._consumer: QueueConsumer | None = None

    def submit(self, job: NewJob) -> int:
        """Record within the user's quota, then publish; the id is returned even when the
        broker is down. A retry (same idempotency key and request) gets the first id."""
        try:
            with self.databases.buildapi_db.connect() as connection:
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
            self._send(JobRequest(outcome.id, job.action, job.who, job.when, job.what))
        return outcome.id

    def relay(self) -> int:
        """Send the recorded requests the broker has not confirmed; stop at the first failure."""
        cutoff = int(self.clock() - self.outbox_every)
        with self.databases.buildapi_db.connect() as connection:
            waiting = unpublished_jobs(connection, cutoff, OUTBOX_BATCH)
        sent = 0
        for row in waiting:
            if not self._send(JobRequest(row.id, row.action, row.who, row.when, row.what)):
                break
            sent += 1
        if sent:
            log.info("outbox: sent %d job request(s) the broker had not taken", sent)
        return sent

    def on_result(self, body: Any, message: Message) -> None:
        """A `finished` message: store it on its job, then ack."""
        request_id = body.get("request_id") if isinstance(body, dict) else None
        if not isinstance(request_id, int) or not isinstance(body.get("body"), dict):
            log.error("result without a request_id or body, kept as a dead letter: %r", body)
            dead_letter(self.broker, body, "result without request_id or body", message)
            return
        try:
            with self.databases.buildapi_db.connect() as connection:
                found = complete_job(connection, request_id, body, int(self.clock()))
        except SQLAlchemyError as exc:
            log.warning("cannot store the result of job %s (%s); retrying", request_id, exc)
            retry_later(self.broker, FINISHED, body, message, self._stop)
            return
        if not found:
            log.warning("result for unknown job %s dropped", request_id)
        message.ack()

    def start(self) -> None:
        """Run the results consumer and the outbox in background threads."""
        self._consumer = QueueConsumer(self.broker, FINISHED, self.on_result)
        self._threads = [
            threading.Thread(target=self._consumer.run, name="job-results", daemon=True),
            threading.Thread(target=self._relay_forever, name="job-outbox", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._consumer is not None:
            self._consumer.stop()
        for thread in self._threads:
            thread.join(timeout=10)
        self.broker.close()

    def _relay_forever(self) -> None:
        while not self._stop.wait(self.outbox_every):
            try:
                self.relay()
            except SQLAlchemyError as exc:
                log.warning("outbox pass failed: %s", exc)

    def _send(self, job: JobRequest) -> bool:
        try:
            self.broker.publish(REQUESTS, job.to_message())
        except BrokerDown as exc:
            log.warning(
                "job %s recorded; broker down (%s); the outbox will send it", job.request_id, exc
            )
            return False
        try:
            with self.databases.buildapi_db.connect() as connection:
                mark_published(connection, job.request_id)
        except SQLAlchemyError as exc:
            # Sent but not marked: the outbox sends it again and the agent ignores the repeat.
            log.warning("job %s sent but not marked as sent: %s", job.request_id, exc)
        return True
