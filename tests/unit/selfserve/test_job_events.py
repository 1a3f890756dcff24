"""Each state change is counted with a bounded action label; a repeated answer counts once."""

from __future__ import annotations

from prometheus_client import REGISTRY

from buildapi.db.queries.jobrequests import Answered, NewJob
from buildapi.selfserve import job_events

AGE = "buildapi_job_request_answer_age_seconds"


def value(name: str, action: str) -> float:
    return REGISTRY.get_sample_value(name, {"action": action}) or 0.0


def test_the_first_answer_is_observed_with_its_age_a_repeat_is_not() -> None:
    count, total = value(f"{AGE}_count", "cancel_build"), value(f"{AGE}_sum", "cancel_build")
    job_events.answered(1, Answered("cancel_build", "a@b", when=1000, first=True), now=1042.5)
    job_events.answered(1, Answered("cancel_build", "a@b", when=1000, first=False), now=1090.0)
    assert value(f"{AGE}_count", "cancel_build") == count + 1
    assert value(f"{AGE}_sum", "cancel_build") == total + 42.5


def test_an_action_outside_the_known_ones_is_counted_as_other() -> None:
    name = "buildapi_job_requests_total"
    before = value(name, "other")
    job_events.recorded(2, NewJob("made_up", "a@b", None, {}, when=1))
    assert value(name, "other") == before + 1
    assert REGISTRY.get_sample_value(name, {"action": "made_up"}) is None
