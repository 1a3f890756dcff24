"""Report windows: parameter parsing, defaults, bounds and interval arithmetic."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from buildapi.errors import BadInput
from buildapi.reports.window import Window, make_window, parse_time

PACIFIC = ZoneInfo("America/Los_Angeles")
NOW = 1_780_000_000.5


@pytest.mark.parametrize(
    ("text", "end", "expected"),
    [
        ("1458457200", False, 1458457200),
        ("1458457200.25", False, 1458457200.25),
        ("0", False, None),
        ("", False, None),
        (None, False, None),
        # Real Pacific DST: 20 March 2016 is already PDT (-0700), which pre-2007 rules got wrong.
        ("2016-03-20", False, 1458457200),
        ("2016-03-20", True, 1458457200 + 86400),
        ("2016-11-06", True, 1478415600 + 25 * 3600),  # the day DST ends has 25 hours
    ],
)
def test_parse_time(text: str | None, end: bool, expected: float | None) -> None:
    assert parse_time(text, "starttime", PACIFIC, end=end) == expected


@pytest.mark.parametrize("text", ["yesterday", "1e400", "-5", "2016-13-01", "nan"])
def test_parse_time_refuses(text: str) -> None:
    with pytest.raises(BadInput):
        parse_time(text, "starttime", PACIFIC)


def test_defaults_are_the_last_day() -> None:
    assert make_window(None, None, None, now=NOW, max_days=31) == Window(NOW - 86400, NOW, 7200)
    assert make_window(1000, None, None, now=NOW, max_days=31).endtime == 1000 + 86400
    assert make_window(None, 90000, 0, now=NOW, max_days=31).starttime == 90000 - 86400


@pytest.mark.parametrize(
    ("start", "end", "size"),
    [(2000, 1000, None), (0.5, 40 * 86400, None), (1000, 2000, -1), (0, 86400, 10)],
)
def test_make_window_refuses(start: float, end: float, size: int | None) -> None:
    with pytest.raises(BadInput):
        make_window(start, end, size, now=NOW, max_days=31)


def test_intervals() -> None:
    window = Window(1000, 1000 + 86400, 7200)
    assert window.int_no == 12
    assert (window.index(500), window.index(1000 + 7200), window.index(10**9)) == (0, 1, 11)
    assert window.interval_starts()[:2] == [1000, 8200]
    assert Window(1000, 1000, 1).int_no == 1
