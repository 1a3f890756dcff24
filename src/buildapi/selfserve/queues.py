"""The broker's queues as data: name, routing key and declaration arguments of each, for the
configured queue type, and the one line that explains a queue the broker holds declared
otherwise. broker.py turns these into kombu queues.

On quorum queues the job requests and the results carry a delivery limit and dead-letter to
the dead-letter queue, so a message whose consumer keeps dying ends there instead of looping.
Each consumed queue has a retry queue beside it: a message that cannot be handled now is
published there with an expiry and the broker dead-letters it back when it expires. A requeue
would count as a delivery and spend the limit during a database outage; this does not."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from buildapi.config import Settings
from buildapi.errors import ConfigError

REQUESTS, FINISHED, DEAD = "requests", "finished", "dead"
# The queues whose consumers may put a message back for later.
CONSUMED = (REQUESTS, FINISHED)
RETRY_SUFFIX = ".retry"
# Dead-lettering that the broker confirms, so a message moved between queues is never dropped
# on the way; RabbitMQ accepts it only with this overflow behaviour.
AT_LEAST_ONCE = {"x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"}
# The key to set when a queue's argument differs from what the broker holds.
ARGUMENT_KEYS = {
    "x-queue-type": "broker_queue_type",
    "x-delivery-limit": "broker_delivery_limit",
    "x-dead-letter-exchange": "broker_queue_type",
    "x-dead-letter-routing-key": "broker_queue_type",
    "x-dead-letter-strategy": "broker_queue_type",
    "x-overflow": "broker_queue_type",
}
MISMATCH = re.compile(
    r"inequivalent arg '(?P<arg>[^']+)'.*: received (?P<ours>.+) but current is (?P<theirs>.+)$"
)
TYPED_VALUE = re.compile(r"^the value (?P<value>.+) of type '\w+'$")


class QueueMismatch(ConfigError):
    """The broker holds a queue of this name declared with other arguments."""


@dataclass(frozen=True)
class QueueSpec:
    name: str
    routing_key: str
    arguments: dict[str, Any] = field(default_factory=dict)


def retry_key(routing_key: str) -> str:
    """The routing key of the retry queue beside the queue bound to `routing_key`."""
    return routing_key + RETRY_SUFFIX


def queue_specs(settings: Settings) -> dict[str, QueueSpec]:
    """Every queue BuildAPI declares, by routing key: the three queues and the retry queues."""
    names = {
        REQUESTS: settings.broker_agent_queue,
        FINISHED: settings.broker_web_queue,
        DEAD: settings.broker_dead_letter_queue,
    }
    quorum = settings.broker_queue_type == "quorum"
    type_argument = {"x-queue-type": "quorum"} if quorum else {}
    specs = {DEAD: QueueSpec(names[DEAD], DEAD, type_argument)}
    for key in CONSUMED:
        if quorum:
            limited = {
                **type_argument,
                "x-delivery-limit": settings.broker_delivery_limit,
                **_dead_letter_to(settings.broker_exchange, DEAD, quorum),
            }
            specs[key] = QueueSpec(names[key], key, limited)
        else:
            specs[key] = QueueSpec(names[key], key)
        back = _dead_letter_to(settings.broker_exchange, key, quorum)
        specs[retry_key(key)] = QueueSpec(
            names[key] + RETRY_SUFFIX, retry_key(key), {**type_argument, **back}
        )
    return specs


def _dead_letter_to(exchange: str, routing_key: str, quorum: bool) -> dict[str, Any]:
    return {
        "x-dead-letter-exchange": exchange,
        "x-dead-letter-routing-key": routing_key,
        **(AT_LEAST_ONCE if quorum else {}),
    }


def mismatch(queue: str, reply: str, settings: Settings) -> QueueMismatch:
    """The broker's PRECONDITION_FAILED `reply` for `queue`, said in one line with the key
    to set (or the way out when no key can match the broker)."""
    found = MISMATCH.search(reply)
    if found is None:
        return QueueMismatch(f"the broker refused queue {queue!r} as BuildAPI declares it: {reply}")
    arg = found["arg"]
    difference = (
        f"queue {queue!r} on the broker has {arg} {_plain(found['theirs'])} where BuildAPI "
        f"declares {_plain(found['ours'])}"
    )
    key = ARGUMENT_KEYS.get(arg)
    if key is None:
        advice = "rename the queue in the config or delete it on the broker"
    else:
        advice = f"set {key} (now {getattr(settings, key)!r}) to match the broker, or migrate it"
    return QueueMismatch(f"{difference}: {advice} (docs/agent.md#queues)")


def _plain(value: str) -> str:
    """`the value 'quorum' of type 'longstr'` -> `'quorum'`; `none` stays."""
    typed = TYPED_VALUE.match(value.strip())
    return typed["value"] if typed else value.strip()
