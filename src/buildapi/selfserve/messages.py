"""The job-request messages between the web and the agents: each action and its arguments,
a job request as it travels on the broker, and the outcome an agent answers. Both sides share
this contract; neither needs the other's code to speak it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Action name -> its arguments in the message body and their JSON types (legacy names).
ACTIONS: dict[str, dict[str, type]] = {
    "reprioritize": {"brid": int, "priority": int},
    "cancel_request": {"brid": int},
    "cancel_build": {"bid": int},
    "rebuild_build": {"bid": int, "count": int, "priority": int},
    "rebuild_request": {"brid": int, "count": int, "priority": int},
    "cancel_revision": {"branch": str, "revision": str},
    "new_build_at_revision": {"branch": str, "revision": str},
    "new_pgobuild_at_revision": {"branch": str, "revision": str, "priority": int},
    "new_nightly_at_revision": {"branch": str, "revision": str, "priority": int},
    "new_build_for_builder": {
        "branch": str,
        "revision": str,
        "priority": int,
        "builder_name": str,
        "properties": dict,
        "files": list,
    },
}

# new_build_for_builder's branch carries this suffix, so no scheduler of the real branch fires.
SELFSERVE_SUFFIX = "-selfserve"


class MalformedRequest(Exception):
    """A message no agent can carry out: it goes to the dead-letter queue."""


@dataclass(frozen=True)
class JobRequest:
    """One job request as the agent receives it: `{"action", "who", "body": {args..., "when",
    "request_id"}}`."""

    request_id: int
    action: str
    who: str
    when: int
    args: dict[str, Any]

    @classmethod
    def from_message(cls, payload: Any) -> JobRequest:
        if not isinstance(payload, dict):
            raise MalformedRequest("message is not a JSON object")
        action, who, body = payload.get("action"), payload.get("who"), payload.get("body")
        if action not in ACTIONS:
            raise MalformedRequest(f"unknown action {action!r}")
        if not isinstance(who, str) or not who:
            raise MalformedRequest("message has no 'who'")
        if not isinstance(body, dict):
            raise MalformedRequest("message has no 'body' object")
        request_id, when = body.get("request_id"), body.get("when", 0)
        if not _is(request_id, int) or not _is(when, int):
            raise MalformedRequest("body needs integer 'request_id' and 'when'")
        args = {}
        for name, kind in ACTIONS[action].items():
            value = body.get(name)
            if not _is(value, kind):
                raise MalformedRequest(f"{action}: argument {name!r} must be {kind.__name__}")
            args[name] = value
        return cls(request_id=request_id, action=action, who=who, when=when, args=args)

    def to_message(self) -> dict[str, Any]:
        body = {**self.args, "when": self.when, "request_id": self.request_id}
        return {"action": self.action, "who": self.who, "body": body}


def _is(value: Any, kind: type) -> bool:
    # bool is an int to Python, never to us.
    return isinstance(value, kind) and not (kind is int and isinstance(value, bool))


@dataclass(frozen=True)
class Outcome:
    """What the agent answers on `finished`: `{"errors": bool, "msg": str}`."""

    errors: bool
    msg: str

    def as_body(self) -> dict[str, Any]:
        return {"errors": self.errors, "msg": self.msg}
