"""`buildapi web --workers 2` as it runs in production: a real supervisor and two worker
processes on one socket, PostgreSQL, RabbitMQ and Redis. What a user keeps per worker is
checked across workers: a request is steered to one worker by pausing the other (SIGSTOP),
since a paused process accepts no connection from the shared socket."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from buildapi.cli.farming import write_farm_history
from buildapi.config import load_settings
from buildapi.db.engines import Databases
from buildapi.db.setup import init_databases
from buildapi.layout import load_layout
from tests.conftest import broker_names
from tests.databases import database_urls
from tests.pipeline.conftest import settings_env
from tests.processes import (
    Output,
    free_port,
    is_gone,
    paused,
    running,
    wait_for_worker,
    wait_until,
)
from tests.proxy.conftest import revision_page_of
from tests.services import service_url
from tests.tokens import make_token

USER = "dev@example.com"
RATE_USER = "busy@example.com"
RATE = 3  # write_rate_per_minute: small, so the limit is reached in a few writes
REVISION = "abcdef123456"
WRITE = f"/self-serve/try/rev/{REVISION}"  # new builds at any revision (the server allows it)
JSON = {"Accept": "application/json"}


@dataclass
class Workers:
    """The supervisor, the pids of its workers (as they said when they started), the tokens."""

    url: str
    supervisor: subprocess.Popen[str]
    output: Output
    tokens: dict[str, str]
    page: str
    pids: list[int] = field(default_factory=list)

    def wait_for_worker(self) -> int:
        pid = wait_for_worker(self.output, self.supervisor.pid)
        self.pids.append(pid)
        return pid

    def live_workers(self) -> list[int]:
        return [pid for pid in self.pids if not is_gone(pid)]

    def auth(self, user: str = USER) -> tuple[str, str]:
        return (user, self.tokens[user])


@pytest.fixture(scope="module")
def workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workers]:
    amqp, redis = service_url("amqp"), service_url("redis")
    data = tmp_path_factory.mktemp("workers")
    with database_urls("postgresql", data) as urls:
        settings = load_settings(
            data_dir=data,
            broker_url=amqp,
            cache_url=redis,
            write_rate_per_minute=RATE,
            write_allow_unknown_revisions=True,
            **{f"{name}_url": url for name, url in urls.items()},
            **broker_names(),
        )
        databases = Databases.from_settings(settings)
        try:
            init_databases(databases)
            layout = load_layout(settings)
            write_farm_history(settings, layout, databases, 0.05, 2000)
            tokens = {user: make_token(databases, user) for user in (USER, RATE_USER)}
            page = revision_page_of(databases, layout)
        finally:
            databases.dispose()
        port = free_port()
        args = ["web", "--workers", "2", "--port", str(port)]
        with running(args, env=settings_env(settings)) as (supervisor, output):
            web = Workers(f"http://127.0.0.1:{port}", supervisor, output, tokens, page)
            web.wait_for_worker()
            web.wait_for_worker()
            yield web


@pytest.fixture
def pair(workers: Workers) -> tuple[int, int]:
    """The two live workers; a request for one that is still starting waits in the backlog."""
    first, second = workers.live_workers()
    return first, second


def test_a_killed_worker_is_replaced_while_the_other_serves(workers: Workers) -> None:
    victim, survivor = workers.live_workers()
    os.kill(victim, signal.SIGKILL)
    wait_until(lambda: is_gone(victim), 10, f"worker {victim} dead")
    killed_at = time.monotonic()
    for _ in range(20):  # each on a new connection, as a load balancer's would be
        response = httpx.get(f"{workers.url}/self-serve/jobs?format=json", timeout=30)
        assert response.status_code == 200, response.text
    replacement = workers.wait_for_worker()
    assert replacement not in (victim, survivor)
    assert sorted(workers.live_workers()) == sorted([survivor, replacement])
    with paused([survivor]):  # the replacement alone serves
        response = httpx.get(f"{workers.url}/self-serve/jobs?format=json", timeout=30)
    assert response.status_code == 200, response.text
    print(f"replacement serving {time.monotonic() - killed_at:.2f} s after the kill")


def test_the_write_rate_limit_is_shared_by_the_workers(
    workers: Workers, pair: tuple[int, int]
) -> None:
    first, second = pair
    with paused([second]):
        for _ in range(RATE):
            response = httpx.post(
                workers.url + WRITE, headers=JSON, auth=workers.auth(RATE_USER), timeout=30
            )
            assert response.status_code == 202, response.text
    with paused([first]):
        refused = httpx.post(
            workers.url + WRITE, headers=JSON, auth=workers.auth(RATE_USER), timeout=30
        )
    assert refused.status_code == 429, refused.text
    assert int(refused.headers["retry-after"]) > 0


def test_a_form_token_from_one_worker_is_accepted_by_the_other(
    workers: Workers, pair: tuple[int, int]
) -> None:
    first, second = pair
    with paused([second]):
        page = httpx.get(
            workers.url + workers.page,
            headers={"Accept": "text/html"},
            auth=workers.auth(),
            timeout=30,
        )
    assert page.status_code == 200, page.text
    cookie = page.cookies["buildapi_csrf"]
    token = re.findall(r'name="csrf_token" value="([^"]+)"', page.text)[0]

    def post_form(token: str) -> httpx.Response:
        headers = {
            "Origin": workers.url,
            "Sec-Fetch-Site": "same-origin",
            "Accept": "text/html",
            "Cookie": f"buildapi_csrf={token}",
        }
        form = {"csrf_token": token}
        return httpx.post(
            workers.url + WRITE, data=form, headers=headers, auth=workers.auth(), timeout=30
        )

    with paused([first]):
        accepted = post_form(token)
        forged = post_form(token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"))
    assert cookie == token
    assert accepted.status_code == 302, accepted.text
    assert forged.status_code == 403, forged.text


def test_the_response_cache_is_shared_through_redis(
    workers: Workers, pair: tuple[int, int]
) -> None:
    first, second = pair
    # A key no earlier run has made, of a page that no farm change moves (the live views'
    # keys follow the changes each worker's poller has seen, which may differ for a moment).
    path = f"/self-serve/branches?format=json&probe={uuid.uuid4().hex}"
    with paused([second]):
        computed = httpx.get(workers.url + path, timeout=30)
    with paused([first]):
        served = httpx.get(workers.url + path, timeout=30)
    assert computed.status_code == served.status_code == 200
    assert "x-cache" not in computed.headers
    assert served.headers.get("x-cache") == "hit"
    assert served.content == computed.content


def test_sighup_replaces_every_worker_while_requests_keep_being_served(workers: Workers) -> None:
    """A reload after an upgrade: each new worker serves before its old one is stopped."""
    old = workers.live_workers()
    os.kill(workers.supervisor.pid, signal.SIGHUP)
    statuses = []
    deadline = time.monotonic() + 60
    while any(not is_gone(pid) for pid in old) and time.monotonic() < deadline:
        statuses.append(
            httpx.get(f"{workers.url}/self-serve/jobs?format=json", timeout=30).status_code
        )
    new = {workers.wait_for_worker(), workers.wait_for_worker()}
    assert all(is_gone(pid) for pid in old), "the old workers were not stopped"
    assert not new & set(old) and sorted(workers.live_workers()) == sorted(new)
    assert statuses and set(statuses) == {200}, statuses


def branches_counted(url: str) -> float:
    """Requests for /self-serve/branches that the answering worker's /metrics reports."""
    from prometheus_client.parser import text_string_to_metric_families

    text = httpx.get(f"{url}/metrics", timeout=30).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "buildapi_http_request_duration_seconds_count"
        and sample.labels == {"method": "GET", "route": "/self-serve/branches", "status": "200"}
    )


def test_either_worker_reports_the_requests_both_served(
    workers: Workers, pair: tuple[int, int]
) -> None:
    """No PROMETHEUS_MULTIPROC_DIR is set: the supervisor gives its workers a directory."""
    first, second = pair
    with paused([second]):
        before = branches_counted(workers.url)
        for _ in range(3):
            assert httpx.get(f"{workers.url}/self-serve/branches", timeout=30).status_code == 200
    with paused([first]):
        assert branches_counted(workers.url) == before + 3
        assert httpx.get(f"{workers.url}/self-serve/branches", timeout=30).status_code == 200
    with paused([second]):
        assert branches_counted(workers.url) == before + 4
