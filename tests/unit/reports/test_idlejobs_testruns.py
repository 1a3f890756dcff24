"""Idle-job intervals and test-run filters on known rows."""

from __future__ import annotations

import pytest

from buildapi.db.queries.report_status import BuilderTestTime, IdleBuild
from buildapi.errors import BadInput
from buildapi.reports import testruns
from buildapi.reports.idlejobs import idle_jobs
from buildapi.reports.window import Window


def test_idle_builds_count_in_every_interval_they_touch() -> None:
    window = Window(0.0, 300.0, 100)
    rows = [IdleBuild("idle-b", 10, 150), IdleBuild("idle-a", 210, 260), IdleBuild("idle-b", 0, 1)]
    data = idle_jobs(rows, window)
    assert list(data["builders"]) == ["idle-a", "idle-b"]
    assert data["builders"]["idle-b"] == {"intervals": [2, 1, 0], "total compute time": 141}
    assert data["builders"]["idle-a"]["intervals"] == [0, 0, 1]
    assert data["total"] == 191


def test_testruns_classify_filter_and_group() -> None:
    rows = [
        BuilderTestTime("Ubuntu VM 12.04 x64 mozilla-central opt test xpcshell", 1000.0, 800.0),
        BuilderTestTime("Ubuntu VM 12.04 x64 mozilla-central debug test jsreftest", 2000.0, 1000.0),
        BuilderTestTime("Windows 7 32-bit mozilla-central opt test reftest", 500.0, 100.0),
    ]
    window = Window(0.0, 100.0, 100)
    data = testruns.testrun_report(
        rows, window, category=None, platform="ubuntu64_vm", btype=None, group=False
    )
    first = data["builders"]["Ubuntu VM 12.04 x64 mozilla-central opt test xpcshell"]
    assert first == {"total": 1000, "test": 800, "ratio": "0.800", "platform": "ubuntu64_vm"}
    assert data["total"] == 2
    grouped = testruns.testrun_report(
        rows, window, category=None, platform=None, btype="opt", group=True
    )
    assert set(grouped["builders"]) == {"xpcshell", "reftest"}
    assert grouped["builders"]["reftest"]["ratio"] == "0.200"


@pytest.mark.parametrize(("text", "value"), [("true", True), ("0", False), (None, False)])
def test_group_is_a_real_boolean(text: str | None, value: bool) -> None:
    assert testruns.checked_group(text) is value


def test_group_refuses_other_words() -> None:
    with pytest.raises(BadInput):
        testruns.checked_group("maybe")
