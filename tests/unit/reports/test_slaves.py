"""Slave busy/idle arithmetic on a known handful of builds."""

from __future__ import annotations

import itertools
from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from buildapi.db.queries.report_status import SlaveBuild
from buildapi.reports.slaves import busy_spans, percent, slave_details, slaves_report
from buildapi.reports.window import Window

WINDOW = Window(starttime=1000.0, endtime=2000.0, int_size=250)


def build(slave: int, start: float, end: float | None, result: int | None) -> SlaveBuild:
    name = "tst-linux64-spot-001" if slave == 1 else "odd-slave"
    return SlaveBuild(slave, name, 7, "a builder", start, end, result)


ROWS = [
    build(1, 1000, 1100, 0),  # interval 0
    build(1, 1200, 1300, 2),  # intervals 0 and 1
    build(1, 1900, None, None),  # still running at the end: busy to the window end
    build(2, 1500, 1750, 1),  # exactly interval 2
]


def test_busy_shares_results_and_status() -> None:
    report = slaves_report(iter(ROWS), WINDOW, last_int_size=200)
    first, second = sorted(report["slaves"], key=lambda slave: slave["slave_id"])
    assert first["busy"] == 30.0  # 100 + 100 + 100 of 1000 s
    assert first["busy_last_int_size"] == 50.0  # 100 of the last 200 s
    assert first["avg_build_duration"] == 100
    assert first["total"] == 3
    assert (first["results_success"], first["results_failure"], first["results_no_result"]) == (
        1,
        1,
        1,
    )
    assert first["results_failure_all"] == 2
    assert first["status_at_endtime"] == 1
    assert first["silo"] == "tst-linux64-spot"
    assert second["silo"] == "other" and second["busy"] == 25.0
    assert second["status_at_endtime"] == 0
    assert report["busy_slaves"] == [1, 1, 1, 1]
    assert report["silos"] == {
        "other": [0.0, 0.0, 100.0, 0.0],
        "tst-linux64-spot": [100.0, 100.0, 0.0, 100.0],
    }
    assert report["busy_at_endtime"] == 1 and report["total_slaves"] == 2


def test_an_open_build_ends_when_the_next_starts() -> None:
    rows = [build(1, 1000, None, None), build(1, 1400, 1500, 0)]
    data = slave_details(1, "tst-linux64-spot-001", iter(rows), WINDOW, last_int_size=250)
    assert data["busy"] == 50.0
    assert [item["busy"] for item in data["intervals"]] == [100.0, 100.0, 0.0, 0.0]
    assert [item["idle"] for item in data["intervals"]] == [0.0, 0.0, 100.0, 100.0]
    assert [b["duration"] for b in data["builds"]] == [100, 400]


def test_a_slave_without_builds() -> None:
    data = slave_details(5, "panda-0001", iter([]), WINDOW, last_int_size=250)
    assert data["total"] == 0 and data["busy"] == 0.0 and data["builds"] == []
    assert data["silo"] == "panda"
    assert all(item["idle"] == 100.0 for item in data["intervals"])


@st.composite
def slave_histories(draw: st.DrawFn) -> list[SlaveBuild]:
    """Builds of a few slaves, by slave then start, some overlapping, some still open."""
    rows = []
    for slave in range(1, draw(st.integers(1, 4)) + 1):
        starts = sorted(draw(st.lists(st.integers(900, 2100), max_size=8)))
        for start in starts:
            length = draw(st.none() | st.integers(0, 600))
            rows.append(build(slave, start, None if length is None else start + length, 0))
    return rows


@given(rows=slave_histories(), int_size=st.integers(1, 400))
def test_busy_slaves_per_interval_match_marking_every_interval(
    rows: list[SlaveBuild], int_size: int
) -> None:
    """Counting ranges gives what marking every interval each span touches gives, overall and
    per silo (slave 1 is in a known silo, the others count under `other`)."""
    window = Window(starttime=1000.0, endtime=2000.0, int_size=int_size)
    report = slaves_report(iter(rows), window, last_int_size=100)
    expected: dict[str, list[int]] = {}
    sizes: Counter[str] = Counter()
    for slave_id, group in itertools.groupby(rows, key=lambda row: row.slave_id):
        marked: set[int] = set()
        for span in busy_spans(list(group), window):
            if span.end > span.start:
                last = window.index(span.end - 1 if span.end > span.start + 1 else span.end)
                marked.update(range(window.index(span.start), last + 1))
        silo = "tst-linux64-spot" if slave_id == 1 else "other"
        sizes[silo] += 1
        counts = expected.setdefault(silo, [0] * window.int_no)
        for index in marked:
            counts[index] += 1
    overall = [sum(column) for column in zip(*expected.values(), strict=True)]
    assert report["busy_slaves"] == (overall or [0] * window.int_no)
    assert report["silos"] == {
        silo: [percent(count, sizes[silo]) for count in counts]
        for silo, counts in sorted(expected.items())
    }
