"""Publishing a batch of messages with pipelined publisher confirms: every message of the batch
is written to the broker first, then the relay waits once for the broker to confirm them all.
Waiting for each confirm in turn costs a round trip per message, and a confirm of a persistent
message can take hundreds of milliseconds on a busy RabbitMQ."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

from kombu import Connection, Exchange, Producer

from buildapi.selfserve.broker import PERSISTENT, Broker, BrokerDown, release_quietly


class Unconfirmed(Exception):
    """The broker refused (nacked) a message of the batch, or did not confirm it in time."""


class ConfirmedBatches:
    """One connection to the broker for batches: `publish_all` returns once the broker has
    every message of the batch on disk, or raises BrokerDown and the caller sends the batch
    again later (a message that did arrive is then a repeat, which the agent ignores)."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self._lock = threading.Lock()
        self._connection: Connection | None = None
        self._producer: Producer | None = None
        self._tracker: _Tracker | None = None

    def publish_all(self, routing_key: str, payloads: Sequence[dict[str, Any]]) -> None:
        if not payloads:
            return
        with self._lock:
            for attempt in (1, 2):
                try:
                    self._publish(routing_key, payloads)
                    return
                except Exception as exc:  # any failure of the transport means "not taken"
                    self._drop_connection()
                    if attempt == 2:
                        raise BrokerDown(f"{type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            self._drop_connection()

    def _publish(self, routing_key: str, payloads: Sequence[dict[str, Any]]) -> None:
        producer = self._ready_producer()
        exchange: Exchange = self.broker.exchange
        for payload in payloads:
            producer.publish(
                payload,
                exchange=exchange,
                routing_key=routing_key,
                delivery_mode=PERSISTENT,
                serializer="json",
                retry=False,
            )
        if self._tracker is not None:
            self._tracker.wait_for(len(payloads), self.broker.timeout)

    def _ready_producer(self) -> Producer:
        if self._producer is None:
            # No confirm_publish: it would make every publish wait for its own confirm.
            connection = Connection(
                self.broker.url,
                connect_timeout=self.broker.timeout,
                transport_options={"max_retries": 1},
            )
            connection.ensure_connection(max_retries=1, timeout=self.broker.timeout)
            channel = connection.channel()
            self.broker.declare(channel)
            if hasattr(channel, "confirm_select"):  # AMQP; the in-process broker is synchronous
                channel.confirm_select()
                self._tracker = _Tracker(connection, channel)
            self._connection, self._producer = connection, Producer(channel)
        return self._producer

    def _drop_connection(self) -> None:
        release_quietly(self._connection)
        self._connection, self._producer, self._tracker = None, None, None


class _Tracker:
    """The broker's acks and nacks on a channel in confirm mode. Delivery tags number the
    channel's messages from 1; an ack with `multiple` confirms every tag up to its own."""

    def __init__(self, connection: Connection, channel: Any) -> None:
        self.connection = connection
        self.published = 0
        self.waiting: set[int] = set()
        self.refused = False
        channel.events["basic_ack"].add(self._on_ack)
        channel.events["basic_nack"].add(self._on_nack)

    def wait_for(self, count: int, timeout: float) -> None:
        self.waiting.update(range(self.published + 1, self.published + count + 1))
        self.published += count
        deadline = time.monotonic() + timeout
        while self.waiting and not self.refused:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Unconfirmed(f"{len(self.waiting)} message(s) not confirmed in {timeout:g} s")
            self.connection.drain_events(timeout=left)
        if self.refused:
            raise Unconfirmed("the broker refused a message of the batch")

    def _on_ack(self, delivery_tag: int, multiple: bool) -> None:
        if multiple:
            self.waiting = {tag for tag in self.waiting if tag > delivery_tag}
        else:
            self.waiting.discard(delivery_tag)

    def _on_nack(self, delivery_tag: int, multiple: bool) -> None:
        self.refused = True
        self._on_ack(delivery_tag, multiple)
