"""Start `buildapi` servers as real processes; stop them by process id."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

READY = "BuildAPI is serving"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running(
    args: Sequence[str],
    *,
    timeout: float = 60.0,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    ready: str = READY,
) -> Iterator:
    """Run `buildapi *args` until it prints `ready` (by default: that it listens); yield
    (process, output): the lines so far, which `output.wait_for` extends. `env` adds
    variables to the test's environment."""
    env = {**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "buildapi.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=cwd,
    )
    lines: queue.Queue[str | None] = queue.Queue()
    pump = threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True)
    pump.start()
    output = Output(lines)
    try:
        output.wait_for(ready, timeout)
        yield process, output
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        pump.join(timeout=20)
        if process.stdout:
            process.stdout.close()


def _pump(stream, lines: queue.Queue[str | None]) -> None:  # type: ignore[no-untyped-def]
    """Drain the pipe so the server never blocks on a full one; None marks the end."""
    for line in stream:
        lines.put(line)
    lines.put(None)


class Output(list[str]):
    """The lines a server printed, read as far as a test has asked."""

    def __init__(self, lines: queue.Queue[str | None]) -> None:
        super().__init__()
        self._lines = lines

    def wait_for(self, marker: str, timeout: float) -> str:
        """Read on until a line contains `marker`; that line."""
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                break
            if line is None:
                raise AssertionError(f"server exited early:\n{''.join(self)}")
            self.append(line)
            if marker in line:
                return line
        raise AssertionError(f"no line with {marker!r} within {timeout}s:\n{''.join(self)}")


def wait_until(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    """Check `condition` until it holds; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout}s")
        time.sleep(0.2)


def children(pid: int) -> set[int]:
    """The live child processes of `pid` (Linux /proc): not killed by name, found by parent."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.update(int(child) for child in (task / "children").read_text().split())
    return {child for child in found if not is_gone(child)}


def is_gone(pid: int) -> bool:
    """Whether `pid` has ended: no such process, or a zombie its parent has not reaped yet."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rpartition(")")[2].split()[0] == "Z"


def is_stopped(pid: int) -> bool:
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] == "T"


@contextmanager
def paused(pids: Iterable[int]) -> Iterator[None]:
    """SIGSTOP `pids` for a moment (they accept no connection meanwhile), then SIGCONT them.
    A supervisor that pings its workers replaces one silent for long: keep the moment short."""
    stopped = list(pids)
    try:
        for pid in stopped:
            os.kill(pid, signal.SIGSTOP)
        wait_until(lambda: all(is_stopped(pid) for pid in stopped), 10, f"{stopped} stopped")
        yield
    finally:
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)


def wait_for_worker(output: Output, supervisor: int, timeout: float = 60) -> int:
    """The pid of the next web worker to say it started, checked to be `supervisor`'s child."""
    line = output.wait_for("web worker ", timeout)
    found = re.search(r"web worker (\d+) started", line)
    assert found, line
    pid = int(found.group(1))
    assert pid in children(supervisor), f"worker {pid} is not a child of {supervisor}"
    return pid
