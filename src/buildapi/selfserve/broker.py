"""The message broker, through kombu: AMQP (RabbitMQ) in production, memory:// embedded.

One durable topic exchange and durable queues (queues.py), declared by every side that
connects so no message is published into a void: job requests (routing key `requests`) for the
agents, results (`finished`) for the web, messages no agent understands (`dead`) for a human,
and a retry queue beside each consumed queue for messages put back for later."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from amqp.exceptions import PreconditionFailed
from kombu import Connection, Consumer, Exchange, Message, Producer, Queue
from kombu.mixins import ConsumerMixin

from buildapi.config import Settings
from buildapi.selfserve.queues import DEAD, mismatch, queue_specs, retry_key

# Re-exported: the broker's users name the routing keys and the mismatch error through it.
from buildapi.selfserve.queues import FINISHED as FINISHED
from buildapi.selfserve.queues import REQUESTS as REQUESTS
from buildapi.selfserve.queues import QueueMismatch as QueueMismatch

log = logging.getLogger(__name__)

PERSISTENT = 2


class BrokerDown(Exception):
    """The broker did not take the message (unreachable, or it refused to confirm)."""


def check_broker(url: str, timeout: float) -> None:
    """Raise if the broker at `url` cannot be reached within `timeout` seconds."""
    with Connection(url, connect_timeout=timeout, transport_options={"max_retries": 0}) as conn:
        conn.ensure_connection(max_retries=1, timeout=timeout)


class Broker:
    """Publishes on the exchange and hands out consumers of its queues. Publishing is
    serialised over one connection (kombu connections are not thread-safe) and waits for the
    broker's confirm, so a message it returns from is on the broker's disk."""

    def __init__(self, settings: Settings) -> None:
        # kombu warns about a memory:// URL without a host; it is the same broker.
        self.url = (
            "memory://localhost/" if settings.broker_url == "memory://" else settings.broker_url
        )
        self.settings = settings
        self.heartbeat = settings.broker_heartbeat_seconds
        self.timeout = settings.broker_connect_timeout_seconds
        self.prefetch_count = settings.broker_prefetch_count
        self.retry_delay = settings.broker_retry_delay_seconds
        self.exchange = Exchange(settings.broker_exchange, type="topic", durable=True)
        self.queues = {
            key: Queue(
                spec.name,
                self.exchange,
                routing_key=spec.routing_key,
                durable=True,
                queue_arguments=spec.arguments or None,
            )
            for key, spec in queue_specs(settings).items()
        }
        self._lock = threading.Lock()
        self._connection: Connection | None = None
        self._producer: Producer | None = None

    def connect(self) -> Connection:
        heartbeat = self.heartbeat if self.url.startswith(("amqp", "pyamqp")) else 0
        return Connection(
            self.url,
            heartbeat=heartbeat,
            connect_timeout=self.timeout,
            transport_options={"confirm_publish": True, "max_retries": 1},
        )

    @property
    def in_process(self) -> bool:
        """kombu's memory transport: no other process reaches it, and it ignores queue
        arguments (no delivery limit, dead-lettering or expiry)."""
        return self.url.startswith("memory://")

    def declare(self, channel: Any) -> None:
        """Declare the exchange and every queue; QueueMismatch if the broker holds one of them
        declared otherwise (the broker closes the channel then)."""
        for queue in self.queues.values():
            try:
                queue(channel).declare()
            except PreconditionFailed as exc:
                raise mismatch(queue.name, str(exc.reply_text), self.settings) from exc

    def verify_queues(self) -> bool:
        """Declare everything once at start, so a queue declared otherwise on the broker stops
        the command (QueueMismatch); False when the broker cannot be reached now, which its
        consumers and the outbox wait out."""
        with self.connect() as connection:
            try:
                connection.ensure_connection(max_retries=1, timeout=self.timeout)
            except Exception as exc:  # whatever the transport raises, it is unreachable now
                log.warning("broker unreachable at start (%s); its queues are checked later", exc)
                return False
            self.declare(connection.default_channel)
        return True

    def publish(
        self, routing_key: str, payload: dict[str, Any], *, expires_in: float | None = None
    ) -> None:
        """Publish persistently and wait for the confirm; one reconnect on a stale connection,
        then BrokerDown (the caller keeps the message in its outbox). With `expires_in`
        (seconds) the broker drops or dead-letters the message once it has waited that long."""
        with self._lock:
            for attempt in (1, 2):
                try:
                    producer = self._ready_producer()
                    producer.publish(
                        payload,
                        exchange=self.exchange,
                        routing_key=routing_key,
                        delivery_mode=PERSISTENT,
                        serializer="json",
                        retry=False,
                        expiration=expires_in,
                    )
                    return
                except Exception as exc:  # any failure of the transport means "not taken"
                    self._drop_connection()
                    if attempt == 2:
                        raise BrokerDown(f"{type(exc).__name__}: {exc}") from exc

    def queue_depths(self) -> dict[str, int]:
        """Messages waiting in each queue, by routing key."""
        with self.connect() as connection:
            connection.ensure_connection(max_retries=1, timeout=self.timeout)
            channel = connection.default_channel
            self.declare(channel)
            return {
                key: int(queue(channel).queue_declare(passive=True).message_count)
                for key, queue in self.queues.items()
            }

    def close(self) -> None:
        with self._lock:
            self._drop_connection()

    def _ready_producer(self) -> Producer:
        if self._producer is None:
            connection = self.connect()
            connection.ensure_connection(max_retries=1, timeout=self.timeout)
            channel = connection.channel()
            self.declare(channel)
            self._connection, self._producer = connection, Producer(channel)
        return self._producer

    def _drop_connection(self) -> None:
        release_quietly(self._connection)
        self._connection, self._producer = None, None


def release_quietly(connection: Connection | None) -> None:
    """Close a connection that may be broken already; it is gone either way."""
    if connection is None:
        return
    try:
        connection.release()
    except Exception:  # closing a broken connection may fail
        log.debug("closing a broken broker connection failed", exc_info=True)


Handler = Callable[[Any, Message], None]


class QueueConsumer(ConsumerMixin):
    """Consumes one queue with manual acks, at most `broker_prefetch_count` messages at a time,
    reconnecting with backoff when the broker goes away. `handle(body, message)` acks,
    dead-letters or retries later."""

    def __init__(self, broker: Broker, routing_key: str, handle: Handler) -> None:
        self.broker = broker
        self.connection = broker.connect()
        self.routing_key = routing_key
        self.handle = handle
        self.on_undecodable: Callable[[Message, Exception], None] | None = None

    def get_consumers(self, consumer_class: type[Consumer], channel: Any) -> list[Consumer]:
        self.broker.declare(channel)
        consumer = consumer_class(
            queues=[self.broker.queues[self.routing_key]],
            callbacks=[self.handle],
            accept=["json"],
            prefetch_count=self.broker.prefetch_count,
            on_decode_error=self.on_decode_error,
        )
        return [consumer]

    def on_decode_error(self, message: Message, exc: Exception) -> None:
        if self.on_undecodable is None:
            super().on_decode_error(message, exc)
        else:
            self.on_undecodable(message, exc)

    def on_connection_error(self, exc: Exception, interval: float) -> None:
        log.warning("broker connection failed (%s); trying again in %.0f s", exc, interval)

    def on_connection_revived(self) -> None:
        log.info("connected to the broker")

    def stop(self) -> None:
        self.should_stop = True


def dead_letter(broker: Broker, body: Any, reason: str, message: Message) -> None:
    """Keep a message nobody can handle in the dead-letter queue, then ack it: never dropped
    silently, never redelivered forever. If the broker cannot take it, it goes back."""
    try:
        broker.publish(DEAD, {"reason": reason, "message": body})
    except BrokerDown:
        message.requeue()
        return
    message.ack()


def retry_later(
    broker: Broker, routing_key: str, body: Any, message: Message, pause: threading.Event
) -> None:
    """Deliver a message that cannot be handled now again after `broker_retry_delay_seconds`,
    without spending one of its deliveries: a requeue counts towards a quorum queue's delivery
    limit, and would dead-letter a good job during a database outage. It goes to the retry
    queue with that expiry, and the broker dead-letters it back (a crash between publish and
    ack means one more delivery, which the agent's ledger answers). The memory transport has
    no expiry, so there the consumer waits out the delay itself. `pause` cuts the wait short
    when the consumer stops."""
    if broker.in_process:
        pause.wait(broker.retry_delay)
        target, expires_in = routing_key, None
    else:
        target, expires_in = retry_key(routing_key), broker.retry_delay
    try:
        broker.publish(target, body, expires_in=expires_in)
    except BrokerDown as exc:
        log.warning("cannot put a message back for later (%s); requeueing it", exc)
        pause.wait(broker.retry_delay)
        try:
            message.requeue()
        except Exception as exc:  # a dead channel: the broker redelivers unacked messages
            log.warning("could not requeue (%s); the broker will redeliver", exc)
        return
    message.ack()
