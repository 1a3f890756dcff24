"""Status builders: per builder name, how many builds ran in the window, how long they took on
average, how they ended and on how many slaves; per slave for one builder."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

from buildapi.db.queries.report_status import BuilderSummaryRow, SlaveBuild
from buildapi.reports.slaves import busy_spans, result_counts, slave_summary
from buildapi.reports.window import Window


def builder_summary(row: BuilderSummaryRow) -> dict[str, Any]:
    return {
        "name": row.name,
        "total": row.total,
        "avg_build_duration": int(row.avg_duration or 0),
        "slaves": row.slaves,
        **result_counts(row.results),
    }


def status_builders(rows: Iterable[BuilderSummaryRow], window: Window) -> dict[str, Any]:
    """The builder list (legacy failed with a 500 as soon as it was not empty)."""
    return {
        "starttime": window.starttime,
        "endtime": window.endtime,
        "builders": [builder_summary(row) for row in rows],
    }


def status_builder(name: str, rows: Iterable[SlaveBuild], window: Window) -> dict[str, Any]:
    """One builder: totals over its builds (raw durations, as legacy) and one summary per slave."""
    slaves = []
    durations: list[float] = []
    results: dict[int | None, int] = {}
    for slave_id, group in itertools.groupby(rows, key=lambda row: row.slave_id):
        builds = list(group)
        for build in builds:
            results[build.result] = results.get(build.result, 0) + 1
            if build.starttime is not None and build.endtime is not None:
                durations.append(max(0.0, build.endtime - build.starttime))
        spans = busy_spans(builds, window)
        slaves.append(slave_summary(slave_id, builds[0].slave_name, spans, window, 0))
    total = sum(results.values())
    return {
        "name": name,
        "starttime": window.starttime,
        "endtime": window.endtime,
        "avg_build_duration": int(sum(durations) // len(durations)) if durations else 0,
        "total": total,
        **result_counts(results),
        "slaves": slaves,
    }
