"""Write times: float seconds a little apart, even while the farm's clock stands still."""

from __future__ import annotations

import pytest

from buildapi.clock import VirtualClock
from buildapi.farm.writetimes import STATEMENT_SECONDS, WriteTimes


def test_each_write_comes_a_statement_later_and_never_goes_back() -> None:
    clock = VirtualClock(1_780_000_000)
    times = WriteTimes(clock)
    first, second = times.take(), times.take()
    assert first == pytest.approx(1_780_000_000 + STATEMENT_SECONDS)
    assert second - first == pytest.approx(STATEMENT_SECONDS, abs=1e-6)  # float seconds near 1.8e9
    assert first != int(first)
    clock.advance(60)
    assert times.take() == pytest.approx(1_780_000_060 + STATEMENT_SECONDS)
