"""Slave busy/idle arithmetic on a known handful of builds."""

from __future__ import annotations

from buildapi.db.queries.report_status import SlaveBuild
from buildapi.reports.slaves import slave_details, slaves_report
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
