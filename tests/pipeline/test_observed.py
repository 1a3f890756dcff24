"""A job request's way through the pipeline is counted and logged: accepted, its time to an
answer, the agent's action, and one log line per state change naming the request that made it."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client import REGISTRY

from buildapi.agent.launch import agent_in_background
from tests.pipeline.conftest import USER, Farmed, seeded_farm, web_client
from tests.pipeline.test_end_to_end import BRANCH, requests_of

ACTION = "rebuild_request"


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Farmed, httpx.Client, dict]]:
    with (
        seeded_farm(tmp_path_factory.mktemp("observed")) as farmed,
        web_client(farmed) as (client, headers),
        agent_in_background(farmed.settings, farmed.databases, farmed.layout),
    ):
        yield farmed, client, headers


def sample(name: str) -> float:
    return REGISTRY.get_sample_value(name, {"action": ACTION}) or 0.0


def job_events(caplog: pytest.LogCaptureFixture, job_id: int) -> dict[str, logging.LogRecord]:
    return {
        record.event: record  # type: ignore[attr-defined]
        for record in caplog.records
        if getattr(record, "job_id", None) == job_id
    }


def test_a_job_request_is_counted_timed_and_logged_at_each_state(
    system: tuple[Farmed, httpx.Client, dict], caplog: pytest.LogCaptureFixture
) -> None:
    farmed, client, headers = system
    before = {
        name: sample(name)
        for name in (
            "buildapi_job_requests_total",
            "buildapi_job_request_answer_age_seconds_count",
            "buildapi_agent_action_duration_seconds_count",
        )
    }
    brid = requests_of(farmed, claimed=True)[0].id
    caplog.set_level(logging.INFO)
    response = client.post(
        f"/self-serve/{BRANCH}/request", data={"request_id": brid, "count": 1}, headers=headers
    )
    assert response.status_code == 202, response.text
    job_id = response.json()["request_id"]
    farmed.wait_for_job(job_id)
    assert {name: sample(name) - value for name, value in before.items()} == {
        "buildapi_job_requests_total": 1.0,
        "buildapi_job_request_answer_age_seconds_count": 1.0,
        "buildapi_agent_action_duration_seconds_count": 1.0,
    }
    events = job_events(caplog, job_id)
    assert {"recorded", "sent", "answered", "performed"} <= set(events)
    for event in events.values():
        assert (event.action, event.user) == (ACTION, USER)  # type: ignore[attr-defined]
    # Written while the request was served, in the thread it handed the work to; the relay
    # sends from a thread of its own.
    request_id = response.headers["x-request-id"]
    assert events["recorded"].request_id == request_id  # type: ignore[attr-defined]
    assert events["sent"].request_id is None  # type: ignore[attr-defined]
