"""The agent's loop: take a job request off the broker, carry it out through the dispatcher,
publish the result, and only then ack, so a crash at any point means a redelivery, which the
ledger answers from its record instead of acting twice. A job that cannot be carried out now
(its database away) is delivered again after `broker_retry_delay_seconds`; one whose agents
keep dying is moved to the dead-letter queue by the broker (quorum queues' delivery limit)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from prometheus_client import Counter, Histogram

from buildapi.agent.dispatcher import Dispatcher, RetryLater
from buildapi.agent.heartbeat import Heartbeat
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
from buildapi.selfserve.messages import ACTIONS, JobRequest, MalformedRequest, Outcome

log = logging.getLogger(__name__)

# The actions are the known ones (JobRequest checks), so the label has a bounded set of values.
ACTION_SECONDS = Histogram(
    "buildapi_agent_action_duration_seconds",
    "Time an agent took to carry out a job request, by action (errors included)",
    ["action"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
ACTION_ERRORS = Counter(
    "buildapi_agent_action_errors",
    "Job requests an agent answered with an error, by action",
    ["action"],
)
ACTION_RETRIES = Counter(
    "buildapi_agent_action_retries",
    "Job requests an agent gave back to be tried later (database unavailable), by action",
    ["action"],
)
for _action in ACTIONS:  # every series exists from the start, at zero
    for _metric in (ACTION_SECONDS, ACTION_ERRORS, ACTION_RETRIES):
        _metric.labels(action=_action)


class Agent:
    """Consumes job requests. While it runs, a `sweeper` stops the builds of cancelled requests
    that a master claimed anyway (races.py), and a `heartbeat` says that it is alive."""

    def __init__(
        self,
        broker: Broker,
        dispatcher: Dispatcher,
        sweeper: RaceSweeper | None = None,
        heartbeat: Heartbeat | None = None,
    ) -> None:
        self.broker = broker
        self.dispatcher = dispatcher
        self.sweeper = sweeper
        self.heartbeat = heartbeat
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
        started = time.perf_counter()
        try:
            outcome = self.dispatcher.perform(job)
        except RetryLater as exc:
            ACTION_RETRIES.labels(action=job.action).inc()
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
        ACTION_SECONDS.labels(action=job.action).observe(time.perf_counter() - started)
        if outcome.errors:
            ACTION_ERRORS.labels(action=job.action).inc()
        log.info(
            "job %d: %s by %s -> %s%s",
            job.request_id,
            job.action,
            job.who,
            "error: " if outcome.errors else "",
            outcome.msg,
            extra={
                "event": "performed",
                "job_id": job.request_id,
                "action": job.action,
                "user": job.who,
            },
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
        """Consume until stop(); reconnects with backoff when the broker goes away. The sweeper
        and the heartbeat run in threads of their own until then."""
        companions = [
            threading.Thread(target=loop.run, args=(self._stop,), name=name, daemon=True)
            for name, loop in (("race-sweeper", self.sweeper), ("heartbeat", self.heartbeat))
            if loop is not None
        ]
        for thread in companions:
            thread.start()
        try:
            self.consumer.run()
        finally:
            self._stop.set()
            for thread in companions:
                thread.join(timeout=60)

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
