"""The agent's vocabulary, shared by the web (which builds requests) and the agent (which
carries them out): each action and its arguments, a job request as it travels, its outcome,
and the backend interface that does the work on a farm."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

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


class RetryLater(Exception):
    """The work could not be done now (database or broker gone): leave the message unacked so
    it is delivered again, rather than answer with an error."""


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


class Backend(Protocol):
    """Carries out job requests on one kind of farm (Buildbot 0.8 masters and their scheduler
    database today; a Buildbot 4 REST backend can implement the same method)."""

    def perform(self, job: JobRequest) -> Outcome:
        """Carry out `job` at most once: a job id already carried out returns its first outcome.
        Raise RetryLater when the farm cannot be reached to decide."""
        ...
