"""No accepted job request is lost on the embedded defaults: a real `buildapi demo` SIGKILLed
right after answering 202 to 20 rebuilds (at once, half a second and a second later) and started
again on the same data directory carries out every one of them exactly once. And `buildapi web`
alone on the embedded broker carries out what it accepts."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from pathlib import Path

import httpx
import pytest

from buildapi.vocabulary import REBUILT_BY
from tests.processes import free_port, running, wait_until
from tests.test_demo import demo_args

JOBS = 20
USER = "demo@example.com"
BRANCH = "mozilla-inbound"
REPO = "integration/mozilla-inbound"


def rows(database: Path, sql: str, *args: object) -> list[tuple]:
    with sqlite3.connect(database) as connection:
        return connection.execute(sql, args).fetchall()


def branch_requests(data: Path) -> list[int]:
    """Build requests of the branch, oldest first: each can be rebuilt."""
    found = rows(
        data / "schedulerdb.sqlite",
        "SELECT br.id FROM buildrequests br JOIN buildsets bs ON bs.id = br.buildsetid "
        "JOIN sourcestamps ss ON ss.id = bs.sourcestampid "
        "WHERE ss.branch = ? ORDER BY br.id",
        REPO,
    )
    assert len(found) >= JOBS, "the demo's history has too few requests"
    return [brid for (brid,) in found[:JOBS]]


def token_of(output: list[str]) -> str:
    for number, line in enumerate(output):
        if line.startswith(f"API token for {USER}"):
            return output[number + 1].strip()
    raise AssertionError(f"the demo printed no token:\n{''.join(output)}")


def rebuild(client: httpx.Client, token: str, brid: int) -> int:
    response = client.post(
        f"/self-serve/{BRANCH}/request",
        json={"request_id": brid, "count": 1},
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "Idempotency-Key": f"rebuild-{brid}",
        },
    )
    assert response.status_code == 202, response.text
    return response.json()["request_id"]


def answered(client: httpx.Client, job_ids: list[int]) -> bool:
    pages = [client.get(f"/self-serve/jobs/{job}?format=json").json() for job in job_ids]
    return all(page["completed_at"] is not None for page in pages)


def rebuilds(data: Path) -> int:
    """Buildsets self-serve made again for the demo's user: one per rebuild carried out."""
    reason = f"{REBUILT_BY}{USER}"
    sql = "SELECT COUNT(*) FROM buildsets WHERE reason = ?"
    return int(rows(data / "schedulerdb.sqlite", sql, reason)[0][0])


@pytest.mark.parametrize("kill_after", [0.0, 0.5, 1.0])
def test_a_demo_killed_after_its_202s_carries_out_every_job_once(
    tmp_path: Path, kill_after: float
) -> None:
    port, data = free_port(), tmp_path / "data"
    base = f"http://127.0.0.1:{port}"
    with running(demo_args(port, data)) as (demo, output):
        token = token_of(output)
        brids = branch_requests(data)
        with httpx.Client(base_url=base, timeout=10) as client:
            job_ids = [rebuild(client, token, brid) for brid in brids]
        time.sleep(kill_after)  # the moment of the crash, not a wait for anything
        os.kill(demo.pid, signal.SIGKILL)
        demo.wait(timeout=10)
    with running(demo_args(port, data)), httpx.Client(base_url=base, timeout=10) as client:
        wait_until(lambda: answered(client, job_ids), 60, "every job answered after the restart")
        done = rows(
            data / "schedulerdb.sqlite",
            f"SELECT job_id, errors FROM selfserve_actions WHERE job_id IN "
            f"({','.join(map(str, job_ids))})",
        )
        assert sorted(done) == [(job, 0) for job in sorted(job_ids)]
        assert rebuilds(data) == JOBS
        # a client that retries with its key gets its job back: carried out, not lost
        assert rebuild(client, token, brids[0]) == job_ids[0]
        assert rebuilds(data) == JOBS


def test_web_alone_on_the_embedded_broker_carries_out_its_jobs(tmp_path: Path) -> None:
    data, port = tmp_path / "data", free_port()
    with running(demo_args(free_port(), data)) as (_demo, output):
        token = token_of(output)
        brids = branch_requests(data)
    web_env = {"BUILDAPI_DATA_DIR": str(data), "BUILDAPI_PORT": str(port)}
    with (
        running(["web"], env=web_env) as (_web, web_output),
        httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client,
    ):
        assert any("runs the agent too" in line for line in web_output)
        job_ids = [rebuild(client, token, brid) for brid in brids[:3]]
        wait_until(lambda: answered(client, job_ids), 30, "the web's own agent answering")
