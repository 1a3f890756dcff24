"""Checks run at once, the probe answers within its bound whatever a check does, and a check
that hangs is not started again by the next probe."""

from __future__ import annotations

import threading
import time

from buildapi.probes import Probed, Prober

BOUND = 0.3


def test_checks_run_at_once() -> None:
    """Each check waits for the other: run one after the other, both would fail."""
    both = threading.Barrier(2, timeout=2)
    outcome = Prober().probe({"a": both.wait, "b": both.wait}, timeout=5)
    assert all(probed.ok for probed in outcome.values()), outcome


def test_values_and_errors() -> None:
    def broken() -> None:
        raise ConnectionRefusedError("[Errno 111] Connection refused\nmore detail")

    outcome = Prober().probe({"fine": lambda: 42, "broken": broken}, timeout=BOUND)
    assert list(outcome) == ["fine", "broken"]
    assert outcome["fine"] == Probed(value=42)
    assert outcome["broken"] == Probed(
        error="ConnectionRefusedError: [Errno 111] Connection refused"
    )
    assert not outcome["broken"].ok


def test_a_hung_check_is_bounded_and_not_started_twice() -> None:
    release = threading.Event()
    calls: list[int] = []

    def hangs() -> str:
        calls.append(1)
        release.wait(30)
        return "answered"

    prober = Prober()
    try:
        for _ in range(3):
            started = time.monotonic()
            outcome = prober.probe({"db": hangs, "broker": lambda: None}, timeout=BOUND)
            assert time.monotonic() - started < BOUND + 1
            assert outcome["db"].error == f"no answer within {BOUND:g} s"
            assert outcome["broker"].ok
        assert len(calls) == 1
    finally:
        release.set()
    # Once the hung run has answered, a probe runs the check anew.
    assert prober.probe({"db": hangs}, timeout=5)["db"].value == "answered"
    before = len(calls)
    assert prober.probe({"db": hangs}, timeout=5)["db"].value == "answered"
    assert len(calls) == before + 1
