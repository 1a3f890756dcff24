"""A `buildapi agent` process on RabbitMQ serves its own /metrics on agent_metrics_port: the
job requests it carried out, timed by action."""

from __future__ import annotations

from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.pipeline.conftest import seeded_farm, settings_env, web_client
from tests.pipeline.test_end_to_end import BRANCH, requests_of
from tests.processes import free_port, running
from tests.services import service_url


def action_count(port: int, action: str) -> float:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    return next(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "buildapi_agent_action_duration_seconds_count"
        and sample.labels == {"action": action}
    )


def test_the_agent_process_serves_its_action_metrics(tmp_path: Path) -> None:
    amqp = service_url("amqp")
    port = free_port()
    with (
        seeded_farm(tmp_path, broker_url=amqp) as farmed,
        web_client(farmed) as (client, headers),
    ):
        env = {**settings_env(farmed.settings), "BUILDAPI_AGENT_METRICS_PORT": str(port)}
        with running(["agent"], env=env, ready="agent consuming"):
            assert action_count(port, "rebuild_request") == 0
            brid = requests_of(farmed, claimed=True)[0].id
            response = client.post(
                f"/self-serve/{BRANCH}/request",
                data={"request_id": brid, "count": 1},
                headers=headers,
            )
            assert response.status_code == 202, response.text
            answer = farmed.wait_for_job(response.json()["request_id"], timeout=60)
            assert answer["errors"] is False
            assert action_count(port, "rebuild_request") == 1
            assert action_count(port, "cancel_build") == 0
