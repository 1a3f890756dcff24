"""A real `buildapi web` (one worker or several) and a real `buildapi agent` over a seeded
farm that stands still unless a test moves it, talking through RabbitMQ."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from buildapi.db.schema.scheduler import buildrequests, buildsets, sourcestamps
from tests.databases import database_urls
from tests.pipeline.conftest import USER, Farmed, seeded_farm, settings_env
from tests.processes import Output, free_port, running, wait_for_worker, wait_until
from tests.services import service_url
from tests.tokens import make_token

BRANCH = "mozilla-inbound"
REPO = "integration/mozilla-inbound"


@dataclass
class Site:
    farmed: Farmed
    url: str
    output: Output
    token: str
    workers: list[int]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}

    def get_json(self, path: str) -> httpx.Response:
        response = httpx.get(self.url + path, headers={"Accept": "application/json"}, timeout=30)
        assert response.status_code == 200, response.text
        return response

    def act(self, method: str, path: str, **kwargs: Any) -> int:
        """Send a job request; its job id once the job page says it is complete."""
        response = httpx.request(
            method, self.url + path, headers=self.headers, timeout=30, **kwargs
        )
        assert response.status_code == 202, response.text
        job_id = response.json()["request_id"]
        wait_until(lambda: self.job(job_id)["completed_at"] is not None, 30, f"job {job_id}")
        return job_id

    def job(self, job_id: int) -> dict[str, Any]:
        return self.get_json(f"/self-serve/jobs/{job_id}?format=json").json()


def requests_of_branch(farmed: Farmed, *, pending: bool) -> list[Any]:
    """Requests on BRANCH (pending ones, or any) with their revision, oldest first."""
    query = (
        select(buildrequests.c.id, sourcestamps.c.revision)
        .join(buildsets, buildsets.c.id == buildrequests.c.buildsetid)
        .join(sourcestamps, sourcestamps.c.id == buildsets.c.sourcestampid)
        .where(sourcestamps.c.branch == REPO)
        .order_by(buildrequests.c.id)
    )
    if pending:
        query = query.where(buildrequests.c.complete == 0, buildrequests.c.claimed_at == 0)
    with farmed.databases.schedulerdb.connect() as connection:
        return list(connection.execute(query))


@contextlib.contextmanager
def live_site(directory: Path, engine: str, workers: int = 1, **overrides: Any) -> Iterator[Site]:
    with (
        database_urls(engine, directory) as urls,
        seeded_farm(
            directory,
            broker_url=service_url("amqp"),
            **{f"{name}_url": url for name, url in urls.items()},
            **overrides,
        ) as farmed,
    ):
        env = settings_env(farmed.settings)
        port = free_port()
        args = ["web", "--port", str(port), "--workers", str(workers)]
        with (
            running(["agent"], env=env, ready="agent consuming"),
            running(args, env=env) as (web, output),
        ):
            pids = [wait_for_worker(output, web.pid) for _ in range(workers)] if workers > 1 else []
            token = make_token(farmed.databases, USER)
            yield Site(farmed, f"http://127.0.0.1:{port}", output, token, pids)
