"""Two real `buildapi web` processes sharing one PROMETHEUS_MULTIPROC_DIR, logging JSON: the
latency histogram by route template, unmatched paths, the sum over both processes, the request
line, and X-Request-ID kept from a trusted proxy only."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from buildapi.cli import main
from tests.processes import Output, free_port, running

DURATION = "buildapi_http_request_duration_seconds"
PROXY_USER = "carol@example.com"


@dataclass
class Server:
    url: str
    output: Output

    def get(self, path: str, **kwargs) -> httpx.Response:  # type: ignore[no-untyped-def]
        return httpx.get(self.url + path, timeout=30, **kwargs)

    def samples(self) -> list:  # type: ignore[type-arg]
        response = self.get("/metrics")
        assert response.status_code == 200
        return [
            sample
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples
        ]

    def count(self, route: str, status: str = "200") -> float:
        """Requests counted for a route template, over every process of the directory."""
        return sum(
            sample.value
            for sample in self.samples()
            if sample.name == f"{DURATION}_count"
            and sample.labels == {"method": "GET", "route": route, "status": status}
        )

    def log_line(self, request_id: str) -> dict:  # type: ignore[type-arg]
        """The request's own line, parsed: the JSON object whose request_id is this one."""
        while True:
            line = self.output.wait_for(request_id, timeout=30)
            record = json.loads(line)
            if record.get("event") == "request":
                return record


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Server]]:
    """`trusting` believes proxies on 127.0.0.1 (every test client); `distrusting` does not."""
    data = tmp_path_factory.mktemp("observed")
    shared = tmp_path_factory.mktemp("multiproc")
    assert main(["db", "init", "--data-dir", str(data)]) == 0

    def start(trusted: str):  # type: ignore[no-untyped-def]
        port = free_port()
        env = {
            "PROMETHEUS_MULTIPROC_DIR": str(shared),
            "BUILDAPI_LOG_FORMAT": "json",
            "BUILDAPI_AUTH_TRUSTED_PROXIES": json.dumps([trusted]),
        }
        args = ["web", "--port", str(port), "--data-dir", str(data)]
        return port, running(args, env=env)

    trusting_port, trusting = start("127.0.0.1")
    distrusting_port, distrusting = start("10.0.0.5")
    with trusting as (_, trusting_output), distrusting as (_, distrusting_output):
        yield (
            Server(f"http://127.0.0.1:{trusting_port}", trusting_output),
            Server(f"http://127.0.0.1:{distrusting_port}", distrusting_output),
        )


def test_latency_is_a_histogram_by_route_template(servers: tuple[Server, Server]) -> None:
    trusting, _ = servers
    before = trusting.count("/self-serve/{branch}")
    for branch in ("try", "mozilla-central"):
        assert trusting.get(f"/self-serve/{branch}?format=json").status_code == 200
    samples = trusting.samples()
    buckets = {
        sample.labels["le"]: sample.value
        for sample in samples
        if sample.name == f"{DURATION}_bucket"
        and sample.labels["route"] == "/self-serve/{branch}"
        and sample.labels["status"] == "200"
    }
    assert "+Inf" in buckets and len(buckets) > 5
    assert buckets["+Inf"] == trusting.count("/self-serve/{branch}") == before + 2
    assert not any("mozilla-central" in str(sample.labels) for sample in samples)


def test_a_random_path_is_counted_as_unmatched_not_by_its_path(
    servers: tuple[Server, Server],
) -> None:
    trusting, _ = servers
    before = trusting.count("unmatched", "404")
    path = f"/no-such-page-{uuid.uuid4().hex}"
    assert trusting.get(path).status_code == 404
    assert trusting.count("unmatched", "404") == before + 1
    assert path not in trusting.get("/metrics").text


def test_any_process_reports_the_sum_over_the_directory(servers: tuple[Server, Server]) -> None:
    trusting, distrusting = servers
    before = trusting.count("/self-serve/branches")
    assert distrusting.count("/self-serve/branches") == before
    for _ in range(3):
        assert distrusting.get("/self-serve/branches?format=json").status_code == 200
    assert trusting.get("/self-serve/branches?format=json").status_code == 200
    assert trusting.count("/self-serve/branches") == before + 4
    assert distrusting.count("/self-serve/branches") == before + 4


def test_a_trusted_proxys_request_id_and_user_are_kept_and_logged(
    servers: tuple[Server, Server],
) -> None:
    trusting, _ = servers
    request_id = f"proxy-{uuid.uuid4().hex}"
    response = trusting.get(
        "/self-serve/branches?format=json",
        headers={"X-Request-ID": request_id, "X-Remote-User": PROXY_USER},
    )
    assert response.headers["x-request-id"] == request_id
    record = trusting.log_line(request_id)
    assert {key: record[key] for key in ("method", "route", "status", "user", "peer")} == {
        "method": "GET",
        "route": "/self-serve/branches",
        "status": 200,
        "user": PROXY_USER,
        "peer": "127.0.0.1",
    }
    assert 0 < record["duration_seconds"] < 30
    assert record["level"] == "INFO" and record["logger"] == "buildapi.web.instrument"


def test_an_untrusted_peers_request_id_is_replaced(servers: tuple[Server, Server]) -> None:
    _, distrusting = servers
    sent = f"client-{uuid.uuid4().hex}"
    response = distrusting.get(
        "/self-serve/branches?format=json",
        headers={"X-Request-ID": sent, "X-Remote-User": PROXY_USER},
    )
    given = response.headers["x-request-id"]
    assert given != sent and re.fullmatch(r"[0-9a-f]{32}", given)
    record = distrusting.log_line(given)
    assert record["user"] is None  # nor is its X-Remote-User believed
    assert sent not in "".join(distrusting.output)


def test_a_malformed_request_id_is_replaced_even_from_a_trusted_proxy(
    servers: tuple[Server, Server],
) -> None:
    trusting, _ = servers
    response = trusting.get("/self-serve/branches", headers={"X-Request-ID": "a b" + "c" * 200})
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


def test_every_log_line_is_json(servers: tuple[Server, Server]) -> None:
    trusting, _ = servers
    request_id = trusting.get("/self-serve/branches").headers["x-request-id"]
    trusting.log_line(request_id)
    logged = [line for line in trusting.output if line.startswith("{")]
    assert len(logged) > 3
    for line in logged:
        assert {"timestamp", "level", "logger", "message"} <= set(json.loads(line))


def test_a_directory_that_does_not_exist_stops_the_server(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "buildapi.cli",
            "web",
            "--port",
            str(free_port()),
            "--data-dir",
            str(tmp_path),
        ],
        env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(missing)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        f"buildapi: PROMETHEUS_MULTIPROC_DIR={missing} is not a directory"
    )
