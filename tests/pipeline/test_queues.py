"""The queues as the broker holds them: quorum queues with their delivery limit and
dead-lettering on RabbitMQ (or the classic declaration), a message put back for later that
comes back after the delay without spending a delivery, on every transport, and a queue
declared otherwise on the broker refused at start in one line."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from amqp.exceptions import PreconditionFailed
from kombu import Queue

from buildapi.agent.launch import agent_in_background
from buildapi.config import Settings, load_settings
from buildapi.db.engines import Databases
from buildapi.db.setup import init_databases
from buildapi.selfserve.broker import (
    DEAD,
    REQUESTS,
    Broker,
    Message,
    QueueConsumer,
    QueueMismatch,
    retry_later,
)
from buildapi.selfserve.queues import queue_specs, retry_key
from tests.conftest import broker_names
from tests.pipeline.conftest import (
    a_build,
    delete_broker_objects,
    post_rebuild,
    rebuilt,
    seeded_farm,
    settings_env,
    web_client,
)
from tests.processes import free_port
from tests.services import service_url

RETRY_DELAY = 1.0
# A client-side clock reads a broker-side expiry a little early or late.
CLOCK_SLACK = 0.1


@contextlib.contextmanager
def broker_of(tmp_path: Path, broker_url: str, **overrides: Any) -> Iterator[Broker]:
    """A broker on its own exchange and queues, all deleted afterwards."""
    settings = load_settings(
        data_dir=tmp_path, broker_url=broker_url, **{**broker_names(), **overrides}
    )
    broker = Broker(settings)
    try:
        yield broker
    finally:
        broker.close()
        delete_broker_objects(settings)


def refusal(broker: Broker, key: str, arguments: dict[str, Any]) -> str | None:
    """What the broker says to `key`'s queue declared again with `arguments`; None if it finds
    them equivalent to the queue it holds."""
    queue = broker.queues[key]
    again = Queue(
        queue.name,
        broker.exchange,
        routing_key=queue.routing_key,
        durable=True,
        queue_arguments=arguments,
    )
    with broker.connect() as connection:
        try:
            again(connection.channel()).declare()
        except PreconditionFailed as exc:
            return str(exc.reply_text)
    return None


def test_quorum_queues_hold_their_arguments_on_the_broker(tmp_path: Path) -> None:
    """Each argument of each queue is on the broker with its value: declaring the queue again
    without it is refused, and the refusal quotes the value the broker holds."""
    with broker_of(tmp_path, service_url("amqp"), broker_delivery_limit=4) as broker:
        assert broker.verify_queues() is True
        specs = queue_specs(broker.settings)
        assert specs[REQUESTS].arguments["x-queue-type"] == "quorum"
        assert specs[REQUESTS].arguments["x-delivery-limit"] == 4
        for key, spec in specs.items():
            assert refusal(broker, key, spec.arguments) is None, key
            for argument, value in spec.arguments.items():
                without = {name: v for name, v in spec.arguments.items() if name != argument}
                reply = refusal(broker, key, without) or ""
                assert f"inequivalent arg '{argument}'" in reply, (key, argument, reply)
                assert f"'{value}'" in reply.split("but current is")[1], (key, argument, reply)


def test_classic_queues_are_declared_without_arguments(tmp_path: Path) -> None:
    with broker_of(tmp_path, service_url("amqp"), broker_queue_type="classic") as broker:
        assert broker.verify_queues() is True
        for key in (REQUESTS, DEAD):
            reply = refusal(broker, key, {"x-queue-type": "quorum"}) or ""
            assert reply.endswith("but current is none"), reply
        retry = queue_specs(broker.settings)[retry_key(REQUESTS)]
        assert "x-queue-type" not in retry.arguments
        assert refusal(broker, retry_key(REQUESTS), retry.arguments) is None


TRANSPORTS = [
    pytest.param("memory://", "quorum", id="memory"),
    pytest.param("amqp", "quorum", id="quorum"),
    pytest.param("amqp", "classic", id="classic"),
]


@pytest.mark.parametrize(("transport", "queue_type"), TRANSPORTS)
def test_a_message_put_back_comes_back_after_the_delay_without_spending_a_delivery(
    tmp_path: Path, transport: str, queue_type: str
) -> None:
    """Put back three times with a delivery limit of 1: a requeue would have dead-lettered it
    after the second delivery."""
    url = transport if transport == "memory://" else service_url(transport)
    with broker_of(
        tmp_path,
        url,
        broker_queue_type=queue_type,
        broker_delivery_limit=1,
        broker_retry_delay_seconds=RETRY_DELAY,
    ) as broker:
        broker.publish(REQUESTS, {"request": 1})
        deliveries: list[tuple[float, bool]] = []
        consumer: QueueConsumer

        def handle(body: Any, message: Message) -> None:
            deliveries.append((time.monotonic(), bool(message.delivery_info.get("redelivered"))))
            if len(deliveries) < 4:
                retry_later(broker, REQUESTS, body, message, threading.Event())
            else:
                message.ack()
                consumer.stop()

        consumer = QueueConsumer(broker, REQUESTS, handle)
        for _ in consumer.consume(timeout=10 * RETRY_DELAY, safety_interval=0.2):
            pass
        consumer.connection.release()
        assert len(deliveries) == 4
        assert not any(redelivered for _, redelivered in deliveries)
        gaps = [later - earlier for (earlier, _), (later, _) in pairwise(deliveries)]
        assert min(gaps) >= RETRY_DELAY - CLOCK_SLACK, gaps
        depths = broker.queue_depths()
        assert depths[REQUESTS] == depths[retry_key(REQUESTS)] == depths[DEAD] == 0


def test_a_job_is_carried_out_on_classic_queues(tmp_path: Path) -> None:
    with (
        seeded_farm(
            tmp_path, broker_url=service_url("amqp"), broker_queue_type="classic"
        ) as farmed,
        web_client(farmed) as (client, headers),
        agent_in_background(farmed.settings, farmed.databases, farmed.layout),
    ):
        before = rebuilt(farmed)
        job_id = post_rebuild(client, headers, a_build(farmed), 2)
        assert farmed.wait_for_job(job_id, timeout=60) == {"errors": False, "msg": "Ok"}
        assert rebuilt(farmed) == before + 2


@contextlib.contextmanager
def classic_queue_on_the_broker(tmp_path: Path) -> Iterator[Settings]:
    """Settings asking for quorum queues (and databases to start on), while the broker holds
    its queues as an older BuildAPI declared them."""
    values = {"data_dir": tmp_path, "broker_url": service_url("amqp"), **broker_names()}
    settings = load_settings(**values)
    databases = Databases.from_settings(settings)
    init_databases(databases)
    databases.dispose()
    classic = load_settings(**values, broker_queue_type="classic")
    try:
        Broker(classic).verify_queues()
        yield settings
    finally:
        delete_broker_objects(settings)


def test_a_queue_declared_otherwise_is_refused_in_one_line(tmp_path: Path) -> None:
    with classic_queue_on_the_broker(tmp_path) as settings:
        with pytest.raises(QueueMismatch):
            Broker(settings).verify_queues()
        env = {**os.environ, **settings_env(settings)}
        expected = (
            f"buildapi: queue {settings.broker_dead_letter_queue!r} on the broker has"
            " x-queue-type none where BuildAPI declares 'quorum': set broker_queue_type"
            " (now 'quorum') to match the broker, or migrate it (docs/agent.md#queues)"
        )
        for command in (["agent"], ["web", "--port", str(free_port())]):
            done = subprocess.run(
                [sys.executable, "-m", "buildapi.cli", *command],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert done.returncode == 1, (command, done.stdout, done.stderr)
            assert done.stderr.strip().splitlines() == [expected], (command, done.stderr)
