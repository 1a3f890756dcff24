"""Pushes: how many pushes each branch had per interval of the window and per hour of the day."""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from buildapi.reports.requests import BranchNamer
from buildapi.reports.window import DAY, Window

HOURS = 24


def pushes_report(
    rows: Iterable[tuple[str | None, int]],
    *,
    window: Window,
    namer: BranchNamer,
    branches: Sequence[str],
    zone: ZoneInfo,
) -> dict[str, Any]:
    """Counts of `rows` (sourcestamp branch, push time) in one pass. Every requested branch is
    listed even without pushes; other names are dropped when a list was asked for."""
    intervals = [0] * window.int_no
    per_branch: dict[str, dict[str, Any]] = {
        name: {"total": 0, "intervals": [0] * window.int_no} for name in branches
    }
    hourly = [0] * HOURS
    total = 0
    for source_branch, when in rows:
        name = namer(source_branch) or "None"
        if branches and name not in per_branch:
            continue
        entry = per_branch.setdefault(name, {"total": 0, "intervals": [0] * window.int_no})
        index = window.index(when)
        total += 1
        intervals[index] += 1
        entry["total"] += 1
        entry["intervals"][index] += 1
        hourly[datetime.datetime.fromtimestamp(when, zone).hour] += 1
    days = max(1, math.ceil((window.endtime - window.starttime - 1) / DAY))
    return {
        "starttime": window.starttime,
        "endtime": window.endtime,
        "int_size": window.int_size,
        "total": total,
        "intervals": intervals,
        "branch": dict(sorted(per_branch.items())),
        "hourly": [count / days for count in hourly],
    }
