"""The job-request contract: a message decodes to the job it encodes, and anything an agent
could not carry out is refused with a reason."""

from __future__ import annotations

from typing import Any

import pytest

from buildapi.selfserve.messages import ACTIONS, JobRequest, MalformedRequest, Outcome

CANCEL = {"action": "cancel_request", "who": "dev@example.com", "body": {"brid": 7, "when": 5}}


def with_body(**changes: Any) -> dict[str, Any]:
    return {**CANCEL, "body": {**CANCEL["body"], "request_id": 3, **changes}}


def test_a_message_round_trips() -> None:
    job = JobRequest.from_message(with_body())
    assert job == JobRequest(3, "cancel_request", "dev@example.com", 5, {"brid": 7})
    assert JobRequest.from_message(job.to_message()) == job


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ([], "not a JSON object"),
        ({**with_body(), "action": "explode"}, "unknown action 'explode'"),
        ({**with_body(), "who": ""}, "no 'who'"),
        ({**with_body(), "body": "brid=7"}, "no 'body' object"),
        (with_body(request_id=True), "integer 'request_id'"),
        (with_body(brid="7"), "argument 'brid' must be int"),
    ],
)
def test_malformed_messages_are_refused(message: Any, reason: str) -> None:
    with pytest.raises(MalformedRequest, match=reason):
        JobRequest.from_message(message)


def test_every_action_names_json_types() -> None:
    kinds = {int, str, dict, list}
    assert all(set(arguments.values()) <= kinds for arguments in ACTIONS.values())


def test_an_outcome_is_the_finished_body() -> None:
    assert Outcome(True, "No request with that id").as_body() == {
        "errors": True,
        "msg": "No request with that id",
    }
