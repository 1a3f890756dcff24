"""Starting a part as its own process group with its output in a log file, waiting until it
serves, and stopping it by the process id recorded when it started, never by name."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import psutil

from buildapi.cluster.parts import ClusterError, Part, Started

POLL_SECONDS = 0.2
STOP_SECONDS = 30.0
LOG_TAIL_LINES = 15


def log_path(directory: Path, part: Part) -> Path:
    return directory / "logs" / f"{part.name}.log"


def start(directory: Path, part: Part) -> Started:
    """Run `part` in a new session (so that it outlives `up` and its children stop with it)."""
    log = log_path(directory, part)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as output:
        offset = output.tell()
        try:
            process = subprocess.Popen(
                part.argv,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                env={**os.environ, **part.env, "PYTHONUNBUFFERED": "1"},
                cwd=directory,
                user=part.user,
                start_new_session=True,
            )
        except OSError as exc:
            raise ClusterError(f"cannot start {part.name} ({part.argv[0]}): {exc}") from None
    return Started(part, process.pid, psutil.Process(process.pid).create_time(), offset)


def wait_ready(directory: Path, started: Started, timeout: float) -> None:
    """Return once the part serves; fail with the end of its log if it exits or takes longer."""
    part = started.part
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_alive(started):
            raise ClusterError(f"{part.name} exited while starting:\n{log_tail(directory, part)}")
        if _serves(directory, started):
            return
        time.sleep(POLL_SECONDS)
    raise ClusterError(
        f"{part.name} did not serve within {timeout:g} s:\n{log_tail(directory, part)}"
    )


def _serves(directory: Path, started: Started) -> bool:
    part = started.part
    if part.ready is not None:
        with log_path(directory, part).open("rb") as log:
            log.seek(started.log_offset)
            return part.ready.encode() in log.read()
    return part.port is not None and port_answers(part.port)


def port_answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1.0)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def is_alive(started: Started) -> bool:
    """The very process that was started is running (not a later one with the same id)."""
    try:
        process = psutil.Process(started.pid)
        return (
            abs(process.create_time() - started.create_time) < 0.05
            and process.status() != psutil.STATUS_ZOMBIE
        )
    except psutil.Error:
        return False


def stop(started: Started, timeout: float = STOP_SECONDS) -> bool:
    """Ask the part to stop with its stop signal, then kill what is left of its process group
    after `timeout`; False when it was not running."""
    if not is_alive(started):
        _kill_group(started)  # children it left behind, if any
        return False
    os.kill(started.pid, started.part.stop_signal)
    deadline = time.monotonic() + timeout
    while _group(started) and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
    _kill_group(started)
    return True


def kill(started: Started) -> None:
    """SIGKILL the part's process, as a crash would (the fault tests use it)."""
    if is_alive(started):
        os.kill(started.pid, signal.SIGKILL)


def _group(started: Started) -> list[psutil.Process]:
    """The live processes of the part's process group, which its pid leads."""
    members = []
    for process in psutil.process_iter(["status"]):
        try:
            if (
                os.getpgid(process.pid) == started.pid
                and process.info["status"] != psutil.STATUS_ZOMBIE
                and process.create_time() >= started.create_time - 0.05
            ):
                members.append(process)
        except (OSError, psutil.Error):
            continue
    return members


def _kill_group(started: Started) -> None:
    for process in _group(started):
        try:
            process.kill()
        except psutil.Error:
            continue


def log_tail(directory: Path, part: Part) -> str:
    log = log_path(directory, part)
    if not log.is_file():
        return "  (no output)"
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()[-LOG_TAIL_LINES:]
    return "\n".join(f"  {line}" for line in lines) or "  (no output)"
