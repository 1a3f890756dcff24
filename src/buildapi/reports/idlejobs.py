"""Idle jobs: builders of the idle category (work slaves do when nothing else waits), their
compute time and builds per interval, counted in one pass over their builds."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from buildapi.db.queries.report_status import IdleBuild
from buildapi.reports.window import Window


def idle_jobs(rows: Iterable[IdleBuild], window: Window) -> dict[str, Any]:
    """Per builder: `intervals` (builds touching each interval) and compute seconds."""
    builders: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = builders.setdefault(
            row.buildername, {"intervals": [0] * window.int_no, "total compute time": 0}
        )
        entry["total compute time"] += int(row.endtime - row.starttime)
        for index in range(window.index(row.starttime), window.index(row.endtime) + 1):
            entry["intervals"][index] += 1
    return {
        "starttime": window.starttime,
        "endtime": window.endtime,
        "int_size": window.int_size,
        "intervals": window.interval_starts(),
        "total": sum(entry["total compute time"] for entry in builders.values()),
        "builders": dict(sorted(builders.items())),
    }
