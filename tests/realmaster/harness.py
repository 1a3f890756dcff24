"""A real Buildbot 0.8.2 master and slave (Python 2.7) on loopback, sharing a scheduler database
with BuildAPI: created, upgraded, started and stopped by process id.

The master's builds run one shell step that waits for a gate file named after the build's
revision (or the `all` gate), so a test decides when each build ends without sleeping. A file
named `hold-claims` makes the master stop inside its claim, between the SELECT of unclaimed
requests and the UPDATE that claims them, which is how the claim race is reproduced.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

from buildapi.layout.loader import example_location
from tests.processes import free_port, wait_until
from tests.services import service_url

HERE = Path(__file__).resolve().parent
SLAVE = "slave1"
BRANCH = "mozilla-central"
# Builders of the shipped example layout: the scheduler's, the targets of the nightly and PGO
# actions, and a test builder for new builds with properties.
SCHEDULED = ("Linux mozilla-central build", "Linux x86-64 mozilla-central build")
BUILDERS = (
    *SCHEDULED,
    "Linux mozilla-central pgo-build",
    "Linux x86-64 mozilla-central pgo-build",
    "Linux mozilla-central nightly",
    "Linux x86-64 mozilla-central nightly",
    "Ubuntu VM 12.04 mozilla-central opt test mochitest-1",
)
STARTUP_SECONDS = 60.0
SUPPORTED = "0.8.2"


def buildbot_env(release: str = SUPPORTED) -> Path:
    """The Python 2.7 virtualenv of a Buildbot release (`.ci/buildbot08.sh` builds them)."""
    return Path(service_url("buildbot08")) / release


def buildbot_db_url(url: str) -> str:
    """Buildbot 0.8's spelling of a database URL: sqlite:////path or mysql://u:p@host:port/db."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return f"sqlite:///{parsed.database}"
    if backend in ("mysql", "mariadb"):
        credentials = f"{parsed.username}:{parsed.password}@" if parsed.username else ""
        port = f":{parsed.port}" if parsed.port else ""
        return f"mysql://{credentials}{parsed.host}{port}/{parsed.database}"
    raise ValueError(f"Buildbot 0.8.2 masters run on SQLite or MySQL, not {backend}")


@dataclass
class RealMaster:
    """One master directory and one slave directory under `root`, on `db_url` (a SQLAlchemy
    URL BuildAPI also uses)."""

    root: Path
    db_url: str
    builders: Sequence[str] = BUILDERS
    http_port: int = field(default_factory=free_port)
    slave_port: int = field(default_factory=free_port)
    _processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def basedir(self) -> Path:
        return self.root / "master"

    @property
    def slavedir(self) -> Path:
        return self.root / "slave"

    @property
    def gates(self) -> Path:
        return self.root / "gates"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def name(self) -> str:
        """What the master writes in `buildrequests.claimed_by_name`."""
        return f"{os.uname().nodename}:{self.basedir}"

    def tool(self, name: str) -> str:
        return str(buildbot_env() / "bin" / name)

    def run(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        """A Buildbot command to completion; its output is kept for the assertion message."""
        return subprocess.run(
            args, cwd=cwd, capture_output=True, text=True, timeout=300, env=_python2_env()
        )

    def create(self, *, database: bool) -> None:
        """The master and slave directories. With `database`, `buildbot create-master` creates
        the shared database too; otherwise it gets a private one of its own, as an operator
        does before upgrading a master onto an existing database."""
        self.gates.mkdir(parents=True, exist_ok=True)
        parsed = make_url(self.db_url)
        if parsed.get_backend_name() == "sqlite" and parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        db = buildbot_db_url(self.db_url) if database else "sqlite:///state.sqlite"
        created = self.run(
            self.tool("buildbot"), "create-master", "--quiet", f"--db={db}", str(self.basedir)
        )
        check(created, "buildbot create-master")
        shutil.copy(HERE / "master.cfg", self.basedir / "master.cfg")
        harness = {
            "db_url": buildbot_db_url(self.db_url),
            "http_port": self.http_port,
            "slave_port": self.slave_port,
            "slaves": [SLAVE],
            "gate_dir": str(self.gates),
            "builders": list(self.builders),
            "schedulers": {BRANCH: [name for name in SCHEDULED if name in self.builders]},
        }
        (self.basedir / "harness.json").write_text(json.dumps(harness), encoding="utf-8")
        slave = self.run(
            self.tool("buildslave"),
            "create-slave",
            "--quiet",
            str(self.slavedir),
            f"127.0.0.1:{self.slave_port}",
            SLAVE,
            "pass",
        )
        check(slave, "buildslave create-slave")

    def upgrade(self) -> subprocess.CompletedProcess[str]:
        """`buildbot upgrade-master`, as an operator runs it before starting a master on an
        existing database; the caller checks the outcome."""
        db = f"--db={buildbot_db_url(self.db_url)}"
        return self.run(self.tool("buildbot"), "upgrade-master", db, str(self.basedir))

    def start(self) -> None:
        """Master and slave in the foreground (so their process ids are ours), until the slave
        is attached to every builder."""
        self._processes.append(self._twistd(self.basedir))
        self._processes.append(self._twistd(self.slavedir))
        try:
            wait_until(self._slave_attached, STARTUP_SECONDS, "the slave attaching to the master")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.log_tail()}") from None

    def restart(self) -> None:
        """Stop master and slave and start them again, as an operator restarts a master."""
        self.stop()
        self.start()

    def stop(self) -> None:
        for process in reversed(self._processes):
            process.terminate()
        for process in self._processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._processes.clear()

    def _twistd(self, directory: Path) -> subprocess.Popen[bytes]:
        log = (directory / "twistd.out").open("wb")
        return subprocess.Popen(
            [self.tool("twistd"), "--nodaemon", "--pidfile=", "-y", "buildbot.tac"],
            cwd=directory,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=_python2_env(),
        )

    def _slave_attached(self) -> bool:
        for process in self._processes:
            if process.poll() is not None:
                raise AssertionError(f"a Buildbot process exited early\n{self.log_tail()}")
        try:
            answer = httpx.get(f"{self.url}/json/slaves/{SLAVE}", timeout=5).json()
        except (httpx.HTTPError, ValueError):
            return False
        return bool(answer.get("connected")) and set(answer.get("builders", {})) == set(
            self.builders
        )

    def log_tail(self, lines: int = 60) -> str:
        log = self.basedir / "twistd.log"
        text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    # -- gates ------------------------------------------------------------------------------

    def open_gate(self, revision: str) -> None:
        (self.gates / revision).touch()

    def end_with(self, revision: str, outcome: str) -> None:
        """Make the builds at `revision` end with WARNINGS ("warn") or FAILURE ("fail")."""
        (self.gates / f"{revision}.{outcome}").touch()

    def close_gate(self, revision: str) -> None:
        (self.gates / revision).unlink(missing_ok=True)

    def open_all_gates(self) -> None:
        (self.gates / "all").touch()

    @contextmanager
    def claims_held(self) -> Iterator[None]:
        """While inside, the master stops in its next claims before their UPDATE."""
        hold = self.gates / "hold-claims"
        hold.touch()
        try:
            yield
        finally:
            hold.unlink()

    def held_claims(self) -> list[list[int]]:
        """The request ids of each claim the master is holding (or held)."""
        return sorted(
            [int(brid) for brid in path.name.removeprefix("held-").split("-")]
            for path in self.gates.glob("held-*")
        )

    # -- BuildAPI's view of this master -----------------------------------------------------

    def layout_files(self, directory: Path) -> dict[str, str]:
        """Masters and builders documents naming this master and its builders (settings keys
        -> paths); the builders' entries are the shipped example's."""
        directory.mkdir(parents=True, exist_ok=True)
        masters = [
            {
                "name": "real-master",
                "hostname": "127.0.0.1",
                "http_port": self.http_port,
                "pb_port": self.slave_port,
                "db_name": self.name,
                "role": "build",
                "enabled": True,
            }
        ]
        example = json.loads(Path(example_location("builders.json")).read_text(encoding="utf-8"))
        builders = {name: example["builders"][name] for name in self.builders}
        (directory / "masters.json").write_text(json.dumps(masters), encoding="utf-8")
        (directory / "builders.json").write_text(
            json.dumps({"builders": builders}), encoding="utf-8"
        )
        return {
            "masters_url": str(directory / "masters.json"),
            "builders_url": str(directory / "builders.json"),
        }


def _python2_env() -> dict[str, str]:
    """The Buildbot tools' environment: no Python 3 variables leaking into Python 2."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    env["PYTHONWARNINGS"] = "ignore"
    return env


def check(result: subprocess.CompletedProcess[str], what: str) -> None:
    if result.returncode != 0:
        raise AssertionError(
            f"{what} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
        )
