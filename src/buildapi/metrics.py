"""What every process's metrics have in common: which registry a scrape reads, label values
kept to a known set, and the agent's own metrics port.

Counters and histograms live in the process that observes them. With several processes (web
workers, agents) sharing one `PROMETHEUS_MULTIPROC_DIR`, prometheus-client keeps each
process's values in a file there, and a scrape of any of them adds up all the files. The
variable must be set before the process starts: prometheus-client reads it on import."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from wsgiref.simple_server import WSGIServer

from prometheus_client import REGISTRY, CollectorRegistry, start_http_server
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector

from buildapi.errors import ConfigError

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
OTHER = "other"
# The files of gauges that count live processes only: gauge_livesum_<pid>.db and the like.
_LIVE_GAUGE_FILE = re.compile(r"gauge_live\w+_(\d+)\.db")


def bounded(value: str, known: Collection[str], other: str = OTHER) -> str:
    """`value` as a label value if it is one of `known`, else `other`: a label never takes a
    value from outside a fixed set, so no request can grow the number of series."""
    return value if value in known else other


def multiprocess_dir() -> Path | None:
    """The shared directory, None when this process keeps its metrics to itself; a variable
    that names no directory is a ConfigError at start-up rather than a failing scrape."""
    value = os.environ.get(MULTIPROC_ENV, "")
    if not value:
        return None
    path = Path(value)
    if not path.is_dir():
        raise ConfigError(f"{MULTIPROC_ENV}={value} is not a directory")
    return path


class AllProcesses(Collector):
    """Every process's values in the shared directory, after dropping the live gauges of
    processes that are gone (a worker killed with SIGKILL never says so itself)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._collector = MultiProcessCollector(None, str(path))

    def collect(self) -> Iterator[Metric]:
        forget_dead_processes(self.path)
        return self._collector.collect()


def forget_dead_processes(path: Path) -> list[int]:
    """Remove the live-gauge files of processes that no longer run; their pids."""
    gone = []
    for entry in path.iterdir():
        match = _LIVE_GAUGE_FILE.fullmatch(entry.name)
        if match and not _alive(int(match.group(1))):
            mark_process_dead(int(match.group(1)), str(path))
            gone.append(int(match.group(1)))
    return gone


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def process_registry() -> CollectorRegistry:
    """What a scrape reports of the metrics processes observe: every process's in the shared
    directory, or this process's own."""
    path = multiprocess_dir()
    if path is None:
        return REGISTRY
    registry = CollectorRegistry()
    registry.register(AllProcesses(path))
    return registry


@contextlib.contextmanager
def shared_metrics_directory() -> Iterator[dict[str, str]]:
    """The variable that gives a set of spawned workers one directory: the one set already,
    or a new one for their lifetime, so any worker's /metrics counts all of them."""
    if multiprocess_dir() is not None:
        yield {}
        return
    path = tempfile.mkdtemp(prefix="buildapi-metrics-")
    try:
        yield {MULTIPROC_ENV: path}
    finally:
        shutil.rmtree(path, ignore_errors=True)


def serve_agent_metrics(host: str, port: int) -> WSGIServer | None:
    """Serve /metrics on `host:port` from a thread (0: not at all); the server, to shut down."""
    if not port:
        return None
    try:
        server, _thread = start_http_server(port, addr=host, registry=process_registry())
    except OSError as exc:
        raise ConfigError(
            f"cannot serve agent metrics on {host}:{port}: {exc.strerror or exc}"
        ) from None
    return server
