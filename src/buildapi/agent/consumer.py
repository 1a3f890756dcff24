"""The agent's loop: take a job request off the broker, carry it out through the dispatcher,
publish the result, and only then ack, so a crash at any point means a redelivery, which the
ledger answers from its record instead of acting twice. A job that cannot be carried out now
(its database away) is delivered again after `broker_retry_delay_seconds`; one whose agents
keep dying is moved to the dead-letter queue by the broker (quorum queues' delivery limit)."""

from __future__ import annotations

import logging
import threading
from typing import Any

from buildapi.agent.dispatcher import Dispatcher, RetryLater
from buildapi.agent.ledger import GENERIC_FAILURE
from buildapi.agent.races import RaceSweeper
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
from buildapi.selfserve.messages import JobRequest, MalformedRequest, Outcome

log = logging.getLogger(__name__)


class Agent:
    """Consumes job requests; with a `sweeper`, also stops the builds of cancelled requests
    that a master claimed anyway (races.py) while it runs."""

    def __init__(
        self, broker: Broker, dispatcher: Dispatcher, sweeper: RaceSweeper | None = None
    ) -> None:
        self.broker = broker
        self.dispatcher = dispatcher
        self.sweeper = sweeper
        self.consumer = QueueConsumer(broker, REQUESTS, self.on_request)
        self.consumer.on_undecodable = self.on_undecodable
        self._stop = threading.Event()

    def on_request(self, body: Any, message: Message) -> None:
        try:
            job = JobRequest.from_message(body)
        except MalformedRequest as exc:
            log.error("dead-lettering a message the agent cannot carry out: %s", exc)
            self._answer_malformed(body, str(exc))
            dead_letter(self.broker, body, str(exc), message)
            return
        if message.delivery_info.get("redelivered"):
            log.warning(
                "job %d delivered again (earlier deliveries: %s): its agent died or lost the"
                " broker while holding it",
                job.request_id,
                message.headers.get("x-delivery-count", "unknown"),
            )
        try:
            outcome = self.dispatcher.perform(job)
        except RetryLater as exc:
            log.warning(
                "job %d cannot be carried out now (%s); retrying in %g s",
                job.request_id,
                exc,
                self.broker.retry_delay,
            )
            retry_later(self.broker, REQUESTS, body, message, self._stop)
            return
        except Exception:  # a bug must not stall the queue: answer and move on
            log.exception("job %d (%s) failed", job.request_id, job.action)
            outcome = GENERIC_FAILURE
        log.info(
            "job %d: %s by %s -> %s%s",
            job.request_id,
            job.action,
            job.who,
            "error: " if outcome.errors else "",
            outcome.msg,
        )
        try:
            self.broker.publish(FINISHED, {"request_id": job.request_id, "body": outcome.as_body()})
        except BrokerDown as exc:
            # Redelivered later, and then the ledger answers from its record.
            log.warning("cannot publish the result of job %d (%s)", job.request_id, exc)
            retry_later(self.broker, REQUESTS, body, message, self._stop)
            return
        message.ack()

    def on_undecodable(self, message: Message, exc: Exception) -> None:
        log.error("dead-lettering a message that is not JSON: %s", exc)
        raw = message.body.decode("utf-8", "replace") if isinstance(message.body, bytes) else ""
        dead_letter(self.broker, raw, f"not JSON: {exc}", message)

    def run(self) -> None:
        """Consume until stop(); reconnects with backoff when the broker goes away."""
        if self.sweeper is None:
            self.consumer.run()
            return
        sweeping = threading.Thread(
            target=self.sweeper.run, args=(self._stop,), name="race-sweeper", daemon=True
        )
        sweeping.start()
        try:
            self.consumer.run()
        finally:
            self._stop.set()
            sweeping.join(timeout=60)

    def drain(self, idle_seconds: float) -> None:
        """Carry out what is queued, then return once nothing came for `idle_seconds`."""
        try:
            for _ in self.consumer.consume(timeout=idle_seconds, safety_interval=idle_seconds):
                pass
        except TimeoutError:
            return

    def stop(self) -> None:
        self._stop.set()
        self.consumer.stop()

    def _answer_malformed(self, body: Any, reason: str) -> None:
        """A malformed request that still names its job gets an error answer, so the job does
        not wait forever."""
        inner = body.get("body") if isinstance(body, dict) else None
        request_id = inner.get("request_id") if isinstance(inner, dict) else None
        if not isinstance(request_id, int) or isinstance(request_id, bool):
            return
        result = Outcome(errors=True, msg=f"the agent cannot carry out this request: {reason}")
        try:
            self.broker.publish(FINISHED, {"request_id": request_id, "body": result.as_body()})
        except BrokerDown:
            log.warning("could not answer malformed job %d", request_id)
