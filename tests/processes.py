"""Start `buildapi` servers as real processes; stop them by process id."""

from __future__ import annotations

import os
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
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
