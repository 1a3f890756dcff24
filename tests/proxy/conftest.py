"""Real servers on loopback: `buildapi web` processes, and a real nginx in front of one of
them, configured by the example in docs/security.md or docs/deploy.md."""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from passlib.apache import HtpasswdFile
from sqlalchemy import select

from buildapi.cli import main
from buildapi.config import load_settings
from buildapi.db.engines import Databases
from buildapi.db.schema.scheduler import sourcestamps
from buildapi.layout import FarmLayout, load_layout
from tests.processes import Output, free_port, running, wait_until
from tests.services import service_url

ROOT = Path(__file__).resolve().parents[2]
SECURITY_DOC = ROOT / "docs" / "security.md"
DEPLOY_DOC = ROOT / "docs" / "deploy.md"
USER, PASSWORD = "alice@example.com", "alice's password"
DEV_USER = "dev@example.com"


@dataclass
class Web:
    """A `buildapi web` process: where it listens, its output and its data."""

    url: str
    output: Output
    data: Path
    pid: int

    def jobs(self) -> list[tuple[int, str, str]]:
        with sqlite3.connect(self.data / "buildapi_db.sqlite") as connection:
            return connection.execute("SELECT id, action, who FROM jobrequests").fetchall()

    def revision_page(self) -> str:
        """The page of a revision in the history written before the server started."""
        settings = load_settings(data_dir=self.data)
        databases = Databases.from_settings(settings)
        try:
            return revision_page_of(databases, load_layout(settings))
        finally:
            databases.dispose()

    def audit_line(self, job_id: int) -> str:
        return self.output.wait_for(f"job {job_id}: ", timeout=30)


def revision_page_of(databases: Databases, layout: FarmLayout) -> str:
    """The self-serve page of a revision the scheduler database has: a page with forms."""
    query = select(sourcestamps.c.branch, sourcestamps.c.revision).limit(1)
    with databases.schedulerdb.connect() as connection:
        repo_path, revision = connection.execute(query).one()
    branch = next(name for name, b in layout.branches.items() if b.repo_path == repo_path)
    return f"/self-serve/{branch}/rev/{revision}"


@contextmanager
def start_web(
    data: Path,
    trusted: list[str],
    dev_user: str = "",
    *,
    options: Sequence[str] = (),
    env: dict[str, str] | None = None,
) -> Iterator[Web]:
    """`buildapi web` (with `options`, and `env` added to its variables) on a short history."""
    history = ["--days", "0.1", "--jobs-per-day", "2000", "--data-dir", str(data)]
    assert main(["db", "init", "--data-dir", str(data)]) == 0
    assert main(["farm", "history", *history]) == 0
    port = free_port()
    env = {
        "BUILDAPI_AUTH_TRUSTED_PROXIES": str(trusted).replace("'", '"'),
        "BUILDAPI_AUTH_DEV_USER": dev_user,
        # the tests' write, new builds at a made-up revision, needs no row of the history
        "BUILDAPI_WRITE_ALLOW_UNKNOWN_REVISIONS": "true",
        **(env or {}),
    }
    args = ["web", "--port", str(port), "--data-dir", str(data), *options]
    with running(args, env=env) as (process, output):
        yield Web(f"http://127.0.0.1:{port}", output, data, process.pid)


@pytest.fixture(scope="module")
def far_proxy_web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    """Believes proxy headers from 10.0.0.5 only; every test client is on 127.0.0.1."""
    with start_web(tmp_path_factory.mktemp("far"), ["10.0.0.5"]) as web:
        yield web


@pytest.fixture(scope="module")
def same_host_web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    """Believes a proxy on this host: the common setup; a development user is set too."""
    with start_web(tmp_path_factory.mktemp("near"), ["127.0.0.1"], DEV_USER) as web:
        yield web


@pytest.fixture(scope="module")
def dev_web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    """No proxy; the development user for browsers on this machine."""
    with start_web(tmp_path_factory.mktemp("dev"), [], DEV_USER) as web:
        yield web


def documented_nginx_server(doc: Path) -> str:
    """The nginx example of `doc`: its first nginx block."""
    found = re.search(r"```nginx\n(.*?)```", doc.read_text(encoding="utf-8"), re.S)
    assert found, f"{doc.name} has no nginx example"
    return found.group(1)


def replaced(text: str, replacements: dict[str, str]) -> str:
    for old, new in replacements.items():
        assert old in text, f"the documented nginx example no longer has {old!r}"
        text = text.replace(old, new)
    return text


@pytest.fixture(scope="module")
def nginx(same_host_web: Web, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The nginx of docs/security.md in front of `same_host_web`; its URL."""
    upstream = {"http://127.0.0.1:8000": same_host_web.url}
    with documented_nginx(SECURITY_DOC, upstream, tmp_path_factory.mktemp("nginx")) as url:
        yield url


@contextmanager
def documented_nginx(doc: Path, upstream: dict[str, str], home: Path) -> Iterator[str]:
    """The nginx example of `doc`, run with TLS on a free port and an htpasswd file of USER;
    `upstream` replaces the app's documented address. Its URL."""
    binary = service_url("nginx")
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=127.0.0.1", "-keyout", str(home / "tls.key")),
            *("-out", str(home / "tls.crt")),
        ],
        check=True,
        capture_output=True,
    )
    passwords = HtpasswdFile(str(home / "htpasswd"), new=True)
    passwords.set_password(USER, PASSWORD)
    passwords.save()
    port = free_port()
    server = replaced(
        documented_nginx_server(doc),
        {
            "listen 443 ssl;": f"listen 127.0.0.1:{port} ssl;",
            "/etc/nginx/buildapi.crt": str(home / "tls.crt"),
            "/etc/nginx/buildapi.key": str(home / "tls.key"),
            "/etc/nginx/buildapi.htpasswd": str(home / "htpasswd"),
            **upstream,
        },
    )
    temporary = " ".join(
        f"{kind}_temp_path {home / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    user = "user root;" if os.geteuid() == 0 else ""
    (home / "nginx.conf").write_text(
        f"{user}\nworker_processes 1;\nerror_log {home / 'error.log'};\npid {home / 'nginx.pid'};\n"
        f"events {{}}\nhttp {{\naccess_log {home / 'access.log'};\n{temporary}\n{server}\n}}\n",
        encoding="utf-8",
    )
    process = subprocess.Popen(
        [binary, "-p", str(home), "-c", str(home / "nginx.conf"), "-g", "daemon off;"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: _listening(port) or process.poll() is not None, 30, "nginx listening")
        assert process.poll() is None, (
            f"nginx exited: {process.stderr.read() if process.stderr else ''}"
        )
        yield f"https://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=20)


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0
