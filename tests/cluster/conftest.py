"""One `buildapi cluster` for the tests of this package, started and stopped by the command
itself, as a user runs it: private servers on free loopback ports in a fresh directory."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
from sqlalchemy import Select, select

from buildapi.cluster.parts import Started
from buildapi.cluster.processes import is_alive
from buildapi.cluster.state import ClusterState, load_state
from buildapi.config import Settings, load_settings
from buildapi.db.engines import Databases
from buildapi.db.schema.scheduler import buildrequests, builds, buildsets, sourcestamps
from buildapi.layout import load_layout
from tests.cluster.load import BRANCH, PendingRequests, Targets
from tests.processes import free_port
from tests.services import service_url

# Writes by 50 clients for a minute are far above one user's default rate limit.
BASE_CONFIG = "write_rate_per_minute = 1000000\n"
UP_SECONDS = 300


def cluster_command(*args: str, timeout: float = UP_SECONDS) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "buildapi.cli", "cluster", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass
class Cluster:
    directory: Path
    port: int
    up_output: str

    @property
    def state(self) -> ClusterState:
        state = load_state(self.directory)
        assert state is not None, f"no state file in {self.directory}"
        return state

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/buildapi"

    def part(self, name: str) -> Started:
        return self.state.part(name)

    def settings(self) -> Settings:
        return load_settings(self.directory / "buildapi.toml")

    def databases(self) -> Databases:
        return Databases.from_settings(self.settings())

    def restart(self, name: str) -> None:
        done = cluster_command("restart", name, "--dir", str(self.directory), timeout=120)
        assert done.returncode == 0, done.stderr + done.stdout


def cluster_directory() -> Path:
    """A directory the database's own user can reach (pytest's tmp_path is the owner's
    alone, and PostgreSQL runs as postgres when the tests run as root)."""
    directory = Path(tempfile.mkdtemp(prefix="buildapi-cluster-"))
    directory.chmod(0o711)
    return directory


@pytest.fixture(scope="package")
def cluster() -> Iterator[Cluster]:
    service_url("cluster")
    service_url("nginx")
    directory = cluster_directory()
    base = directory / "base.toml"
    base.write_text(BASE_CONFIG, encoding="utf-8")
    port = free_port()
    args = ["--dir", str(directory), "--port", str(port), "--config", str(base)]
    done = cluster_command("up", *args, "--history-days", "0.2")
    try:
        assert done.returncode == 0, f"cluster up failed:\n{done.stdout}\n{done.stderr}"
        yield Cluster(directory, port, done.stdout)
    finally:
        started = load_state(directory)
        cluster_command("down", "--dir", str(directory), timeout=120)
        left = [s for s in (started.started if started else []) if is_alive(s)]
        for part in left:  # a failing `down` must not leave servers behind
            psutil.Process(part.pid).kill()
        shutil.rmtree(directory, ignore_errors=True)
        assert not left, f"`cluster down` left running: {[s.part.name for s in left]}"


REPO = "integration/mozilla-inbound"


def on_branch() -> Select:
    """The build requests of BRANCH, with their buildset's reason."""
    return (
        select(buildrequests.c.id, buildsets.c.reason)
        .join(buildsets, buildsets.c.id == buildrequests.c.buildsetid)
        .join(sourcestamps, sourcestamps.c.id == buildsets.c.sourcestampid)
        .where(sourcestamps.c.branch == REPO)
    )


def pending_requests(cluster: Cluster) -> list[tuple[int, str]]:
    """BRANCH's pending requests and their reasons."""
    pending = on_branch().where(buildrequests.c.complete == 0, buildrequests.c.claimed_at == 0)
    databases = cluster.databases()
    try:
        with databases.schedulerdb.connect() as connection:
            return [tuple(row) for row in connection.execute(pending)]
    finally:
        databases.dispose()


def read_targets(cluster: Cluster, limit: int = 200) -> Targets:
    """Builds, pending requests, revisions and builders of BRANCH."""
    settings = cluster.settings()
    databases = Databases.from_settings(settings)
    try:
        with databases.schedulerdb.connect() as connection:
            requests = on_branch().with_only_columns(buildrequests.c.id)
            build_ids = connection.execute(
                select(builds.c.id).where(builds.c.brid.in_(requests)).limit(limit)
            ).scalars()
            revisions = connection.execute(
                select(sourcestamps.c.revision).where(sourcestamps.c.branch == REPO).limit(limit)
            ).scalars()
            found = list(build_ids), list(revisions)
    finally:
        databases.dispose()
    pending = PendingRequests()
    pending.update(pending_requests(cluster))
    builders = sorted(load_layout(settings).builders_for_branch(BRANCH))
    return Targets(found[0], pending, found[1], builders)
