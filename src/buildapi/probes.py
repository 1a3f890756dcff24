"""Run health checks at once, each in a thread, and wait for all of them no longer than a
bound: a dependency that hangs (a database that takes the connection and never answers) fails
its check at the bound instead of hanging the probe, and the load balancer asking gets an answer.

A thread stuck in a hung call cannot be stopped. So a check still running from an earlier
probe is not started again: the new probe waits for the same run, and a hung dependency holds
one thread however often it is probed."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, wait
from dataclasses import dataclass
from typing import Any

Check = Callable[[], Any]


@dataclass(frozen=True)
class Probed:
    """What one check gave: its value, or why it failed (then `value` is None)."""

    value: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class Prober:
    """Runs named checks; one run of each name at a time."""

    def __init__(self) -> None:
        self._running: dict[str, Future[Any]] = {}
        self._lock = threading.Lock()

    def probe(self, checks: Mapping[str, Check], timeout: float) -> dict[str, Probed]:
        """Every check's outcome within about `timeout` seconds, in the order given."""
        futures = {name: self._start(name, check) for name, check in checks.items()}
        wait(futures.values(), timeout=timeout)
        return {name: _outcome(future, timeout) for name, future in futures.items()}

    def _start(self, name: str, check: Check) -> Future[Any]:
        with self._lock:
            running = self._running.get(name)
            if running is not None and not running.done():
                return running
            future: Future[Any] = Future()
            self._running[name] = future
        thread = threading.Thread(
            target=_run, args=(check, future), name=f"check-{name}", daemon=True
        )
        thread.start()
        return future


def _run(check: Check, future: Future[Any]) -> None:
    try:
        future.set_result(check())
    except Exception as exc:  # a health check reports any failure, whatever its kind
        future.set_exception(exc)


def _outcome(future: Future[Any], timeout: float) -> Probed:
    if not future.done():
        return Probed(error=f"no answer within {timeout:g} s")
    exc = future.exception()
    if exc is None:
        return Probed(value=future.result())
    first_line = str(exc).splitlines()[0] if str(exc) else ""
    return Probed(error=f"{type(exc).__name__}: {first_line}" if first_line else type(exc).__name__)
