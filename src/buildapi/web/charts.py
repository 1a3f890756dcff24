"""What a report page hands to report_charts.js: charts as plain data, and interval labels."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

LABEL_FORMAT = "%m/%d %H:%M"  # an interval's local start, as the legacy report pages wrote it


def interval_labels(zone: ZoneInfo, starts: Iterable[float]) -> list[str]:
    """Each interval start (epoch seconds) as local month/day and time."""
    return [datetime.datetime.fromtimestamp(start, zone).strftime(LABEL_FORMAT) for start in starts]


def chart(
    canvas: str,
    title: str,
    unit: str,
    labels: list[str],
    series: list[dict[str, Any]],
    *,
    kind: str = "line",
    stacked: bool = False,
    palette: str = "distinct",
) -> dict[str, Any]:
    """One chart: a canvas id, its axis labels and named series (`label`, `data`). The palette
    is `distinct` colours, or a green-to-red `ramp` for ordered series such as wait blocks."""
    return {
        "canvas": canvas,
        "title": title,
        "unit": unit,
        "type": kind,
        "stacked": stacked,
        "labels": labels,
        "series": series,
        "palette": palette,
    }
