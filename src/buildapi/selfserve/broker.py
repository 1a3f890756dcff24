"""The message broker, through kombu: AMQP (RabbitMQ) in production, memory:// embedded.

One durable topic exchange and three durable queues, declared by every side that connects so
no message is published into a void: job requests (routing key `requests`) for the agents,
results (`finished`) for the web, and messages no agent understands (`dead`) for a human."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from kombu import Connection, Consumer, Exchange, Message, Producer, Queue
from kombu.mixins import ConsumerMixin

from buildapi.config import Settings

log = logging.getLogger(__name__)

REQUESTS, FINISHED, DEAD = "requests", "finished", "dead"
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
        self.heartbeat = settings.broker_heartbeat_seconds
        self.timeout = settings.broker_connect_timeout_seconds
        self.exchange = Exchange(settings.broker_exchange, type="topic", durable=True)
        self.queues = {
            REQUESTS: Queue(
                settings.broker_agent_queue, self.exchange, routing_key=REQUESTS, durable=True
            ),
            FINISHED: Queue(
                settings.broker_web_queue, self.exchange, routing_key=FINISHED, durable=True
            ),
            DEAD: Queue(
                settings.broker_dead_letter_queue, self.exchange, routing_key=DEAD, durable=True
            ),
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

    def declare(self, channel: Any) -> None:
        for queue in self.queues.values():
            queue(channel).declare()

    def publish(self, routing_key: str, payload: dict[str, Any]) -> None:
        """Publish persistently and wait for the confirm; one reconnect on a stale connection,
        then BrokerDown (the caller keeps the message in its outbox)."""
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
        if self._connection is not None:
            try:
                self._connection.release()
            except Exception:  # closing a broken connection may fail; it is gone either way
                log.debug("closing a broken broker connection failed", exc_info=True)
        self._connection, self._producer = None, None


Handler = Callable[[Any, Message], None]


class QueueConsumer(ConsumerMixin):
    """Consumes one queue with manual acks, one message at a time, reconnecting with backoff
    when the broker goes away. `handle(body, message)` acks, rejects or requeues."""

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
            prefetch_count=1,
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
