"""`up`, `down`, `status` and `restart` of a cluster: start the private servers, make the
databases, start BuildAPI's processes over them, and stop exactly what was started."""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from buildapi.cluster import processes
from buildapi.cluster.databases import database_server
from buildapi.cluster.nginx import USER, add_user, nginx_part
from buildapi.cluster.parts import ClusterError, Part, Reused, Started
from buildapi.cluster.plan import Wiring, buildapi, buildapi_env, buildapi_parts, write_config
from buildapi.cluster.servers import (
    broker_url,
    epmd_part,
    rabbitmq_part,
    redis_part,
    smtp_sink_part,
)
from buildapi.cluster.state import ClusterState, load_state
from buildapi.config import load_settings
from buildapi.db.engines import DATABASES
from buildapi.db.servers import ensure_databases, server_answers
from buildapi.farm.launch import with_free_ports
from buildapi.farm.server import free_ports
from buildapi.layout import load_layout

READY_SECONDS = 120.0
SETUP_SECONDS = 600.0
HISTORY_JOBS_PER_DAY = 3000
HISTORY_MARKER = "history.done"
SERVER_PORTS = 6  # redis, epmd, rabbitmq and its distribution port, the database, the mail sink

Report = Callable[[str], None]


@dataclass(frozen=True)
class Options:
    directory: Path
    database: str = "postgresql"
    database_url: str = ""
    broker_url: str = ""
    port: int = 8080
    web_workers: int = 2
    agents: int = 2
    history_days: float = 1.0
    mail_every_minutes: float = 10.0
    config: Path | None = None


def up(options: Options, report: Report) -> ClusterState:
    """Start the cluster, saying one line per part; a failure stops what was started."""
    directory = options.directory.resolve()
    state = load_state(directory)
    if state is not None:
        running = [started for started in state.started if processes.is_alive(started)]
        if running:
            raise AlreadyUp(state, len(running))
    directory.mkdir(parents=True, exist_ok=True)
    state = ClusterState(directory)
    try:
        _start_cluster(options, state, report)
    except BaseException:
        report("starting failed; stopping what was started")
        down(state, report)
        raise
    return state


class AlreadyUp(ClusterError):
    def __init__(self, state: ClusterState, running: int) -> None:
        super().__init__(
            f"already up in {state.directory}: {running} of {len(state.started)} parts "
            f"running, at {state.url} (`buildapi cluster status` lists them)"
        )
        self.state = state
        self.running = running


def _start_cluster(options: Options, state: ClusterState, report: Report) -> None:
    ports = iter(free_ports(SERVER_PORTS + options.web_workers))
    wiring = _start_servers(options, state, ports, report)
    config = _configure(state.directory, wiring, options.config)
    _setup_databases(config, state.directory, options.history_days, report)
    web_ports = [next(ports) for _ in range(options.web_workers)]
    parts = buildapi_parts(
        config, web_ports, options.agents, wiring.smtp_port, options.mail_every_minutes
    )
    _start_together(state, parts, report)
    _start(state, nginx_part(state.directory, options.port, web_ports), report, wait=True)
    state.user, state.password = USER, add_user(state.directory, USER)
    state.url = f"http://127.0.0.1:{options.port}/buildapi/"
    state.save()


def _start_servers(
    options: Options, state: ClusterState, ports: Iterator[int], report: Report
) -> Wiring:
    """Start the private servers side by side, wait for them all, and make the databases."""
    directory = state.directory
    redis = redis_part(directory, next(ports))
    servers = [redis]
    amqp = options.broker_url
    if amqp:
        state.reused.append(Reused("rabbitmq", amqp))
    else:
        epmd, rabbitmq = next(ports), next(ports)
        servers += [epmd_part(epmd), rabbitmq_part(directory, rabbitmq, epmd, next(ports))]
        amqp = broker_url(rabbitmq)
    database_url = options.database_url
    if database_url:
        kind = "mariadb" if database_url.startswith(("mysql", "mariadb")) else "postgresql"
        state.reused.append(Reused(kind, database_url))
    else:
        database = database_server(options.database, directory, next(ports))
        servers.append(database.part)
        database_url = database.url
    smtp = smtp_sink_part(directory, next(ports)) if _has_aiosmtpd() else None
    if smtp is None:
        report("mail-sink   not started: aiosmtpd is missing (pip install 'buildapi[cluster]')")
    _start_together(state, [part for part in [*servers, smtp] if part], report)
    if not options.database_url:  # a server the cluster did not start answers already
        _wait_for_database(database_url)
    for reused in state.reused:
        report(f"{reused.name:<11} reused   {_hide_password(reused.url)}")
    own = _cluster_name(directory)
    prefix = f"{own}_" if options.database_url else ""
    urls = ensure_databases(database_url, [f"{prefix}{name}" for name in DATABASES])
    return Wiring(
        dict(zip(DATABASES, urls.values(), strict=True)),
        amqp,
        redis.shows,
        own if options.broker_url else "",
        smtp.port if smtp else None,
    )


def _start(state: ClusterState, part: Part, report: Report, *, wait: bool) -> Started:
    if part.port is not None and processes.port_answers(part.port):
        raise ClusterError(f"cannot start {part.name}: port {part.port} is taken")
    started = processes.start(state.directory, part)
    state.started.append(started)
    state.save()
    if wait:
        processes.wait_ready(state.directory, started, READY_SECONDS)
        report(describe(started, "started"))
    return started


def _start_together(state: ClusterState, parts: list[Part], report: Report) -> None:
    """Start every part, then wait for each: they start side by side."""
    for started in [_start(state, part, report, wait=False) for part in parts]:
        processes.wait_ready(state.directory, started, READY_SECONDS)
        report(describe(started, "started"))


def describe(started: Started, how: str) -> str:
    part = started.part
    port = f"port {part.port}" if part.port else ""
    return f"{part.name:<11} {how:<8} pid {started.pid:<7} {port:<10} {part.shows}".rstrip()


def _configure(directory: Path, wiring: Wiring, base: Path | None) -> Path:
    """The configuration file, with the farm's masters on free ports."""
    config = write_config(directory, wiring, {}, base)
    settings = load_settings(config)
    farm = with_free_ports(settings, load_layout(settings))
    return write_config(
        directory,
        wiring,
        {"masters_url": farm.masters_url, "clobberer_url": farm.clobberer_url},
        base,
    )


def _setup_databases(config: Path, directory: Path, days: float, report: Report) -> None:
    """The schemas, and on the first start a history for the reports to show."""
    with_config = ("--config", str(config))
    _run(buildapi("db", "init", *with_config), "db init")
    marker = directory / HISTORY_MARKER
    if not marker.is_file():
        history = ("--days", str(days), "--jobs-per-day", str(HISTORY_JOBS_PER_DAY))
        _run(buildapi("farm", "history", *with_config, *history), "farm history")
        marker.touch()
        report(f"{'history':<11} written  {days:g} days of past builds")


def _run(argv: tuple[str, ...], what: str) -> None:
    env = {**os.environ, **buildapi_env()}
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=SETUP_SECONDS, check=False, env=env
    )
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise ClusterError(f"{what} failed: {' / '.join(lines)}")


def _wait_for_database(url: str) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while not server_answers(url):
        if time.monotonic() > deadline:
            raise ClusterError(f"the database server {_hide_password(url)} does not answer")
        time.sleep(processes.POLL_SECONDS)


def _cluster_name(directory: Path) -> str:
    """What names the cluster's databases and queues on servers others use too."""
    return f"buildapi_{hashlib.sha256(str(directory).encode()).hexdigest()[:8]}"


def _hide_password(url: str) -> str:
    scheme, _, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    return f"{scheme}://{credentials.split(':')[0]}:***@{host}"


def _has_aiosmtpd() -> bool:
    import importlib.util

    return importlib.util.find_spec("aiosmtpd") is not None


def down(state: ClusterState, report: Report) -> int:
    """Stop every part, the last started first; the number that were running."""
    stopped = 0
    for started in reversed(state.started):
        was_running = processes.stop(started)
        stopped += was_running
        report(describe(started, "stopped" if was_running else "gone"))
    state.forget()
    return stopped


def status(state: ClusterState) -> list[tuple[Started, bool, bool]]:
    """Each part with whether its process runs and whether it answers (its port, if any)."""
    rows = []
    for started in state.started:
        alive = processes.is_alive(started)
        port = started.part.port
        answers = alive and (port is None or processes.port_answers(port))
        rows.append((started, alive, answers))
    return rows


def restart(state: ClusterState, name: str, report: Report) -> Started:
    """Stop part `name` if it runs and start it again with the same command."""
    old = state.part(name)
    processes.stop(old)
    started = processes.start(state.directory, old.part)
    state.replace(started)
    state.save()
    processes.wait_ready(state.directory, started, READY_SECONDS)
    report(describe(started, "started"))
    return started
