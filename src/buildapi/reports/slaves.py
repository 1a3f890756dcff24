"""Slave reports from statusdb: how busy each slave was, how its builds ended, busy slaves per
interval and per silo.

One pass over builds ordered by slave: only one slave's builds are held at a time. A build is
busy from its start to its end clipped to the window; a build with no end (still running, or
lost) is busy until the slave's next build starts, or the window ends. Legacy quirks fixed here
(docs/reports.md): a build marks every interval it touches, its last one included; the last
interval's busy share is clipped to that interval (never over 100 %); slaves of no known silo
count under `other` instead of failing the report.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from buildapi.db.queries.report_status import SlaveBuild
from buildapi.reports import classify
from buildapi.reports.window import Window
from buildapi.vocabulary import Result, is_good

# The results a slave report counts by name (a request's CANCELLED is never a build's result).
COUNTED = tuple(result for result in Result if result != Result.CANCELLED)
OTHER_SILO = "other"


def result_counts(counts: Mapping[int | None, int]) -> dict[str, int]:
    """`results_<name>` per buildbot result, `results_no_result` for builds without one, and
    `results_failure_all`: everything but success and warnings."""
    out = {f"results_{result.legacy_name}": counts.get(result, 0) for result in COUNTED}
    out["results_no_result"] = sum(n for code, n in counts.items() if code not in COUNTED)
    out["results_failure_all"] = (
        sum(counts.values()) - out["results_success"] - out["results_warnings"]
    )
    return out


# The result-count keys of every slave and builder summary, in their order.
RESULT_KEYS = tuple(result_counts({}))


class Span(NamedTuple):
    """A build and the part of the window its slave spent on it."""

    build: SlaveBuild
    start: float
    end: float

    @property
    def seconds(self) -> float:
        return max(0.0, self.end - self.start)


def busy_spans(builds: list[SlaveBuild], window: Window) -> list[Span]:
    """Each build (sorted by start) clipped to the window; an open end runs to the next start."""
    low, high = window.starttime, window.endtime
    spans = []
    for build, following in itertools.pairwise([*builds, None]):
        start = build.starttime if build.starttime is not None else low
        end = build.endtime
        if end is None:
            end = following.starttime if following and following.starttime else high
        spans.append(Span(build, max(start, low), min(max(start, end), high)))
    return spans


def percent(part: float, whole: float) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0


def slave_summary(
    slave_id: int, name: str, spans: list[Span], window: Window, last_int_size: int
) -> dict[str, Any]:
    """The legacy per-slave object: busy shares, average build time, result counts, status."""
    span = window.endtime - window.starttime
    busy = sum(item.seconds for item in spans)
    last_start = window.endtime - last_int_size
    busy_last = sum(
        max(0.0, item.end - max(item.start, last_start)) for item in spans if item.end > last_start
    )
    latest = spans[-1].build if spans else None
    still_busy = latest is not None and (latest.endtime is None or latest.endtime > window.endtime)
    return {
        "slave_id": slave_id,
        "name": name,
        "silo": classify.silo(name) or OTHER_SILO,
        "starttime": window.starttime,
        "endtime": window.endtime,
        "busy": percent(busy, span) if span else -1,
        "busy_last_int_size": percent(busy_last, last_int_size),
        "avg_build_duration": int(busy // len(spans)) if spans else 0,
        "total": len(spans),
        **result_counts(Counter(item.build.result for item in spans)),
        "status_at_endtime": 1 if still_busy else 0,
        "int_size": window.int_size,
        "last_int_size": last_int_size,
    }


def busy_ranges(spans: list[Span], window: Window) -> list[tuple[int, int]]:
    """The intervals in which the slave worked at all, as merged (first, last) index ranges; the
    interval its build ended in counts. Spans come in start order, so one pass merges them."""
    ranges: list[tuple[int, int]] = []
    index = window.index
    for _, start, end in spans:
        if end <= start:
            continue
        first = index(start)
        last = index(end - 1 if end > start + 1 else end)
        if ranges and first <= ranges[-1][1] + 1:
            if last > ranges[-1][1]:
                ranges[-1] = (ranges[-1][0], last)
        else:
            ranges.append((first, last))
    return ranges


class _BusyCounter:
    """Busy slaves per interval, counted as +1/-1 at each range's ends and summed once at the
    end: the cost is per range, not per interval a build covers."""

    def __init__(self, int_no: int) -> None:
        self.deltas = [0] * (int_no + 1)
        self.slaves = 0

    def add(self, ranges: list[tuple[int, int]]) -> None:
        self.slaves += 1
        for first, last in ranges:
            self.deltas[first] += 1
            self.deltas[last + 1] -= 1

    def counts(self) -> list[int]:
        return list(itertools.accumulate(self.deltas[:-1]))


def slaves_report(rows: Iterable[SlaveBuild], window: Window, last_int_size: int) -> dict[str, Any]:
    """Every slave with a build started in the window, and busy slaves per interval and silo."""
    summaries = []
    overall = _BusyCounter(window.int_no)
    silos: dict[str, _BusyCounter] = {}
    for slave_id, group in itertools.groupby(rows, key=lambda row: row.slave_id):
        builds = list(group)
        spans = busy_spans(builds, window)
        summary = slave_summary(slave_id, builds[0].slave_name, spans, window, last_int_size)
        summaries.append(summary)
        ranges = busy_ranges(spans, window)
        overall.add(ranges)
        silo = summary["silo"]
        if silo not in silos:
            silos[silo] = _BusyCounter(window.int_no)
        silos[silo].add(ranges)
    summaries.sort(key=lambda item: (-item["results_failure_all"], item["name"]))
    total = len(summaries)
    busy_all = overall.counts()
    return {
        "starttime": window.starttime,
        "endtime": window.endtime,
        "int_size": window.int_size,
        "last_int_size": last_int_size,
        "total_slaves": total,
        "busy_at_endtime": sum(item["status_at_endtime"] for item in summaries),
        "avg_busy": round(sum(item["busy"] for item in summaries) / total, 2) if total else 0.0,
        "intervals": window.interval_starts(),
        "busy_slaves": busy_all,
        "busy_percent": [percent(count, total) for count in busy_all],
        "silos": {
            name: [percent(count, silos[name].slaves) for count in silos[name].counts()]
            for name in sorted(silos)
        },
        "slaves": summaries,
    }


def slave_details(
    slave_id: int, name: str, rows: Iterable[SlaveBuild], window: Window, last_int_size: int
) -> dict[str, Any]:
    """One slave: its summary, busy and idle share and results per interval, and its builds."""
    spans = busy_spans(list(rows), window)
    summary = slave_summary(slave_id, name, spans, window, last_int_size)
    busy_seconds = [0.0] * window.int_no
    outcomes = [Counter[str]() for _ in range(window.int_no)]
    starts = window.interval_starts()
    for item in spans:
        result = item.build.result if is_good(item.build.result) else Result.FAILURE
        outcomes[window.index(item.start)][Result(result).legacy_name] += 1
        for index in range(window.index(item.start), window.index(item.end) + 1):
            low = max(item.start, starts[index])
            high = min(item.end, starts[index] + window.int_size, window.endtime)
            busy_seconds[index] += max(0.0, high - low)
    intervals = []
    for index, start in enumerate(starts):
        length = min(window.int_size, window.endtime - start)
        busy = percent(min(busy_seconds[index], length), length)
        counts = outcomes[index]
        intervals.append(
            {
                "start": start,
                "busy": busy,
                "idle": round(100.0 - busy, 2),
                "builds": sum(counts.values()),
                "success": counts["success"],
                "warnings": counts["warnings"],
                "failure": counts["failure"],
            }
        )
    builds = [
        {
            "slave_id": item.build.slave_id,
            "slave_name": item.build.slave_name,
            "builder_id": item.build.builder_id,
            "builder_name": item.build.builder_name,
            "starttime": item.build.starttime,
            "endtime": item.build.endtime,
            "duration": int(item.seconds),
            "result": item.build.result,
        }
        for item in reversed(spans)
    ]
    return {**summary, "intervals": intervals, "builds": builds}
