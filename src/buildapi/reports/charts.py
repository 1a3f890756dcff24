"""What a report page hands to report_charts.js: charts as plain data, with colour tokens.

Colours themselves live once, as CSS custom properties in buildapi.css; a series names one by
token (`result-2`, `series-5`, `totals`, ...), so a result, a branch or a pool has the same
colour in every chart and table. A named series takes its place in a stable order (the
layout's branches, the silos) or else a hash of its name, never its position in one chart."""

from __future__ import annotations

import datetime
import zlib
from collections.abc import Iterable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from buildapi.vocabulary import Result

LABEL_FORMAT = "%m/%d %H:%M"  # an interval's local start, as the legacy report pages wrote it
# Size of the categorical palette (--series-0 .. --series-11 in buildapi.css); past it, a
# series repeats a colour with a dashed line.
SERIES_COLOURS = 12
TOTALS = "totals"  # the colour of "Totals" lines: no series ever has it
OTHER = "other"  # the colour of an "other" slice: the rest of a top-N
SINGLE = "single"  # the colour of a chart's only series
OTHER_LABEL = "other"
TOP_SLICES = 10  # slices of a pie before the rest is one "other" slice
TOP_BARS = 30  # bars of a long bar chart before the rest is left to the table


def interval_labels(zone: ZoneInfo, starts: Iterable[float]) -> list[str]:
    """Each interval start (epoch seconds) as local month/day and time."""
    return [datetime.datetime.fromtimestamp(start, zone).strftime(LABEL_FORMAT) for start in starts]


def result_colour(result: Result) -> str:
    return f"result-{int(result)}"


def series_index(name: str, order: Sequence[str] = ()) -> int:
    """A name's stable place: its index in `order` (layout order), else a hash of the name."""
    if name in order:
        return order.index(name)
    return zlib.crc32(name.encode()) % SERIES_COLOURS


def series(
    label: str, data: list[Any], colour: str | None = None, *, order: Sequence[str] = ()
) -> dict[str, Any]:
    """A named series; without `colour`, the stable colour of `label` among `order`."""
    if colour is not None:
        return {"label": label, "data": data, "colour": colour, "dash": False}
    index = series_index(label, order)
    return {
        "label": label,
        "data": data,
        "colour": f"series-{index % SERIES_COLOURS}",
        "dash": index >= SERIES_COLOURS,
    }


def totals(data: list[Any], label: str = "Totals") -> dict[str, Any]:
    return {"label": label, "data": data, "colour": TOTALS, "dash": True}


def top_n(pairs: Iterable[tuple[str, float]], n: int) -> list[tuple[str, float]]:
    """The `n` largest (label, value) pairs, largest first, and one `other` pair summing the
    rest (left out when nothing is left over)."""
    ranked = sorted(pairs, key=lambda pair: pair[1], reverse=True)
    head, rest = ranked[:n], ranked[n:]
    if rest:
        head.append((OTHER_LABEL, sum(value for _, value in rest)))
    return head


def pie(
    canvas: str,
    title: str,
    unit: str,
    pairs: Iterable[tuple[str, float]],
    *,
    order: Sequence[str] = (),
    colours: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A pie of the TOP_SLICES largest slices and `other`; slice colours by name."""
    slices = top_n(pairs, TOP_SLICES)
    labels = [label for label, _ in slices]
    named = colours or {}

    def colour(label: str) -> str:
        if label in named:
            return named[label]
        if label == OTHER_LABEL:
            return OTHER
        return series(label, [], order=order)["colour"]

    spec = chart(canvas, title, unit, labels, [series(unit, [v for _, v in slices], OTHER)])
    spec["series"][0]["colours"] = [colour(label) for label in labels]
    return spec | {"type": "pie"}


def chart(
    canvas: str,
    title: str,
    unit: str,
    labels: list[str],
    lines: list[dict[str, Any]],
    *,
    kind: str = "line",
    stacked: bool = False,
    palette: str = "distinct",
    horizontal: bool = False,
) -> dict[str, Any]:
    """One chart: a canvas id, its axis labels and series (`label`, `data`, `colour`). The
    palette `ramp` colours ordered series (wait blocks) green to red instead. `horizontal`
    bars grow the chart's height with the number of labels, so each bar stays readable.
    Values are never below zero: counts, shares and durations; None is a gap."""
    return {
        "canvas": canvas,
        "title": title,
        "unit": unit,
        "type": kind,
        "stacked": stacked,
        "horizontal": horizontal,
        "labels": labels,
        "series": lines,
        "palette": palette,
    }
