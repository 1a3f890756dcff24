"""Batches with pipelined confirms on a real RabbitMQ and on the in-process broker: every message
of a confirmed batch is in the queue, in order; a broker that is not there confirms nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kombu import Connection

from buildapi.config import load_settings
from buildapi.selfserve.broker import REQUESTS, Broker, BrokerDown
from buildapi.selfserve.confirms import ConfirmedBatches
from tests.conftest import broker_names
from tests.processes import free_port
from tests.services import service_url


@pytest.fixture(params=["amqp", "memory"])
def broker(request: pytest.FixtureRequest, tmp_path) -> Iterator[Broker]:  # type: ignore[no-untyped-def]
    url = service_url("amqp") if request.param == "amqp" else "memory://"
    broker = Broker(load_settings(data_dir=tmp_path, broker_url=url, **broker_names()))
    yield broker
    with broker.connect() as connection:
        channel = connection.channel()
        for queue in broker.queues.values():
            queue(channel).delete()
        broker.exchange(channel).delete()
    broker.close()


def drain(broker: Broker) -> list[int]:
    """The numbers of the messages waiting in the job-request queue, in queue order."""
    numbers = []
    with Connection(broker.url) as connection:
        queue = broker.queues[REQUESTS](connection.channel())
        while (message := queue.get(no_ack=True, accept=["json"])) is not None:
            numbers.append(message.payload["number"])
    return numbers


def test_confirmed_batches_are_queued_whole_and_in_order(broker: Broker) -> None:
    batches = ConfirmedBatches(broker)
    try:
        batches.publish_all(REQUESTS, [{"number": n} for n in range(500)])
        batches.publish_all(REQUESTS, [{"number": n} for n in range(500, 600)])
    finally:
        batches.close()
    assert drain(broker) == list(range(600))


def test_a_broker_that_is_not_there_confirms_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"amqp://guest:guest@127.0.0.1:{free_port()}//"
    settings = load_settings(
        data_dir=tmp_path, broker_url=url, broker_connect_timeout_seconds=1, **broker_names()
    )
    batches = ConfirmedBatches(Broker(settings))
    with pytest.raises(BrokerDown, match=r"(?i)connect|refused"):
        batches.publish_all(REQUESTS, [{"number": 1}])
