"""Nagios' real check_http, with the command lines docs/monitoring.md gives, against a real
`buildapi web` and a real `buildapi agent` on RabbitMQ: OK while all is well, CRITICAL once
the agent is killed (its heartbeat goes stale) or a database is gone."""

from __future__ import annotations

import contextlib
import re
import shlex
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from buildapi.cli import main
from buildapi.db.engines import normalize_url
from tests.conftest import broker_names
from tests.databases import scratch_database
from tests.processes import free_port, running, wait_until
from tests.services import service_url

DOCS = Path(__file__).resolve().parents[2] / "docs" / "monitoring.md"
OK, CRITICAL = 0, 2
STALE_SECONDS = 3


def documented_checks() -> dict[str, list[str]]:
    """The check_http command lines of docs/monitoring.md, by the path each one checks."""
    block = re.search(r"```sh\n(check_http .*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    assert block, "docs/monitoring.md has no check_http block"
    commands = [shlex.split(line) for line in block.group(1).splitlines() if line.strip()]
    return {command[command.index("-u") + 1].split("?")[0]: command for command in commands}


@dataclass
class Served:
    port: int
    config: Path
    statusdb_url: str
    check_http: str

    def check(self, path: str) -> subprocess.CompletedProcess[str]:
        """Run the documented check of `path` against this server."""
        command = documented_checks()[path]
        command = [self.check_http, *command[1:]]
        command[command.index("-p") + 1] = str(self.port)
        return subprocess.run(command, capture_output=True, text=True, timeout=60)

    def until(self, path: str, code: int) -> subprocess.CompletedProcess[str]:
        """Check `path` until check_http exits with `code` (Nagios: 0 OK, 2 CRITICAL)."""
        found: list[subprocess.CompletedProcess[str]] = []

        def answered() -> bool:
            found[:] = [self.check(path)]
            return found[0].returncode == code

        wait_until(answered, STALE_SECONDS * 5, f"check_http {path} exiting {code}")
        return found[0]

    def health(self) -> dict:
        url = f"http://127.0.0.1:{self.port}/healthz?format=json"
        return httpx.get(url, timeout=30).json()

    @contextlib.contextmanager
    def agent(self) -> Iterator[subprocess.Popen]:
        args = ["agent", "--config", str(self.config)]
        with running(args, ready="agent consuming") as (process, _output):
            yield process


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    check_http = service_url("check_http")
    amqp = service_url("amqp")
    directory = tmp_path_factory.mktemp("monitored")
    with scratch_database(service_url("postgresql")) as statusdb_url:
        config = directory / "buildapi.toml"
        keys = {
            "data_dir": str(directory / "data"),
            "statusdb_url": statusdb_url,
            "broker_url": amqp,
            **broker_names(),
            "agent_heartbeat_seconds": 0.5,
            "agent_stale_seconds": STALE_SECONDS,
            "health_timeout_seconds": 5.0,
        }
        config.write_text(
            "".join(f"{key} = {_toml(value)}\n" for key, value in keys.items()), encoding="utf-8"
        )
        assert main(["db", "init", "--config", str(config)]) == 0
        port = free_port()
        with running(["web", "--config", str(config), "--port", str(port)]):
            yield Served(port, config, statusdb_url, check_http)


def _toml(value: object) -> str:
    return f'"{value}"' if isinstance(value, str) else str(value)


def test_all_well_is_ok(served: Served) -> None:
    with served.agent():
        for path in ("/livez", "/readyz"):
            result = served.check(path)
            assert result.returncode == OK, result.stdout
            assert result.stdout.startswith("HTTP OK: HTTP/1.1 200 OK")
        healthy = served.until("/healthz", OK)
        assert healthy.stdout.startswith("HTTP OK: HTTP/1.1 200 OK")
        assert served.health()["agents"]["alive"] == 1


def test_a_killed_agent_turns_critical(served: Served) -> None:
    with served.agent() as agent:
        served.until("/healthz", OK)
        agent.kill()  # SIGKILL: no goodbye, the heartbeat row just stops moving
        agent.wait(timeout=10)
        critical = served.until("/healthz", CRITICAL)
        assert critical.stdout.startswith("HTTP CRITICAL: HTTP/1.1 503 Service Unavailable")
        (seen,) = [row for row in served.health()["agents"]["seen"] if row["pid"] == agent.pid]
        assert seen["alive"] is False
        assert served.check("/readyz").returncode == OK, "the web can still serve"
    with served.agent():
        served.until("/healthz", OK)


def test_a_database_gone_turns_critical(served: Served) -> None:
    """Last in the module: the status database is dropped for good."""
    url = normalize_url(served.statusdb_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE {url.database} WITH (FORCE)"))
    admin.dispose()
    ready = served.until("/readyz", CRITICAL)
    assert ready.stdout.startswith("HTTP CRITICAL: HTTP/1.1 503 Service Unavailable")
    assert served.check("/healthz").returncode == CRITICAL
    assert served.health()["msg"].startswith("statusdb: down")
    assert served.check("/livez").returncode == OK, "the process still answers"
