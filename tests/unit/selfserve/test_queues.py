"""The queues' declarations for each queue type, and the one line a mismatch is told in."""

from __future__ import annotations

from pathlib import Path

from buildapi.config import load_settings
from buildapi.selfserve.queues import (
    DEAD,
    FINISHED,
    REQUESTS,
    mismatch,
    queue_specs,
    retry_key,
)

AT_LEAST_ONCE = {"x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"}


def test_quorum_queues_dead_letter_after_the_delivery_limit(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, broker_delivery_limit=3)
    specs = queue_specs(settings)
    for key in (REQUESTS, FINISHED):
        assert specs[key].routing_key == key
        assert specs[key].arguments == {
            "x-queue-type": "quorum",
            "x-delivery-limit": 3,
            "x-dead-letter-exchange": "buildapi.control",
            "x-dead-letter-routing-key": DEAD,
            **AT_LEAST_ONCE,
        }
    assert specs[DEAD].arguments == {"x-queue-type": "quorum"}


def test_retry_queues_dead_letter_back_to_their_queue(tmp_path: Path) -> None:
    specs = queue_specs(load_settings(data_dir=tmp_path))
    assert specs[retry_key(REQUESTS)].name == "buildapi-agent.retry"
    assert specs[retry_key(FINISHED)].name == "buildapi-web.retry"
    for key in (REQUESTS, FINISHED):
        retry = specs[retry_key(key)]
        assert retry.routing_key == f"{key}.retry"
        assert retry.arguments["x-dead-letter-routing-key"] == key
        assert retry.arguments["x-queue-type"] == "quorum"
        assert "x-delivery-limit" not in retry.arguments


def test_classic_queues_are_declared_as_before(tmp_path: Path) -> None:
    """Existing brokers hold the three queues declared without arguments; only the retry queues,
    which they do not have yet, carry any."""
    specs = queue_specs(load_settings(data_dir=tmp_path, broker_queue_type="classic"))
    assert all(specs[key].arguments == {} for key in (REQUESTS, FINISHED, DEAD))
    assert specs[retry_key(REQUESTS)].arguments == {
        "x-dead-letter-exchange": "buildapi.control",
        "x-dead-letter-routing-key": REQUESTS,
    }


def test_a_mismatch_names_the_queue_the_difference_and_the_key(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    reply = (
        "PRECONDITION_FAILED - inequivalent arg 'x-queue-type' for queue 'buildapi-agent' in "
        "vhost '/': received the value 'quorum' of type 'longstr' but current is none"
    )
    assert mismatch("buildapi-agent", reply, settings).msg == (
        "queue 'buildapi-agent' on the broker has x-queue-type none where BuildAPI declares "
        "'quorum': set broker_queue_type (now 'quorum') to match the broker, or migrate it "
        "(docs/agent.md#queues)"
    )
    limit = "inequivalent arg 'x-delivery-limit' for queue 'q' in vhost '/': received '5' but "
    assert (
        "set broker_delivery_limit (now 5)" in mismatch("q", limit + "current is '2'", settings).msg
    )
    durable = "inequivalent arg 'durable' for queue 'q' in vhost '/': received 'true' but "
    assert "rename the queue" in mismatch("q", durable + "current is 'false'", settings).msg


def test_a_refusal_of_another_shape_is_still_one_line(tmp_path: Path) -> None:
    error = mismatch("q", "PRECONDITION_FAILED - something new", load_settings(data_dir=tmp_path))
    assert error.msg == (
        "the broker refused queue 'q' as BuildAPI declares it: PRECONDITION_FAILED - something new"
    )
