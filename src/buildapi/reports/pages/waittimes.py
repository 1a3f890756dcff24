"""The wait-time report's CSV and page: block tables per platform, jobs per interval charts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from buildapi.reports.charts import chart, interval_labels
from buildapi.reports.pages import Page, ReportPage, Site, Table
from buildapi.reports.waittimes import BlockParams, block_rows, blocks_in_order
from buildapi.reports.window import Window
from buildapi.vocabulary import POOL_NAMES

RAMP_COLOURS = 12  # --ramp-0 .. --ramp-11 in buildapi.css: short waits green, long ones red


@dataclass(frozen=True)
class WaitTimesQuery:
    pool: str
    window: Window
    blocks: BlockParams


def table(data: dict[str, Any], query: WaitTimesQuery) -> Table:
    """One row per (platform, block): overall first (platform `all`), counts per interval."""
    header = ["platform", "block", "total", *map(str, query.window.interval_starts())]
    scopes = [("all", data["wt"]), *((p, v["wt"]) for p, v in data["platforms"].items())]
    rows = [
        [platform, block, entry["total"], *entry["intervals"]]
        for platform, wt in scopes
        for block, entry in blocks_in_order(wt)
    ]
    return header, rows


def page(data: dict[str, Any], query: WaitTimesQuery, site: Site) -> Page:
    return Page(
        "reports/waittimes.html",
        f"Wait times: {data['pool']}",
        {
            "tables": _block_tables(data),
            "charts": _charts(data, query, site),
            "window": query.window,
            "pools": POOL_NAMES,
        },
    )


def _block_series(wt: dict[str, Any], blocks: BlockParams) -> list[dict[str, Any]]:
    """Short waits first, so the ramp paints them green and long ones red."""
    return [
        {
            "label": f"{blocks.label(block)} min",
            "data": entry["intervals"],
            "colour": f"ramp-{min(index, RAMP_COLOURS - 1)}",
            "dash": False,
        }
        for index, (block, entry) in enumerate(blocks_in_order(wt))
    ]


def shares_of(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each line as a percentage of its interval's total; None (a gap, not 0 %) where the
    interval had no jobs at all."""
    totals = [sum(column) for column in zip(*(line["data"] for line in lines), strict=True)]
    return [
        line
        | {
            "data": [
                round(100 * n / total, 2) if total else None
                for n, total in zip(line["data"], totals, strict=True)
            ]
        }
        for line in lines
    ]


def _charts(data: dict[str, Any], query: WaitTimesQuery, site: Site) -> list[dict[str, Any]]:
    """Jobs per interval stacked by wait block: counts and shares overall, counts per platform."""
    labels = interval_labels(site.zone, query.window.interval_starts())

    def waits(canvas: str, title: str, unit: str, lines: list[dict[str, Any]]) -> dict[str, Any]:
        return chart(canvas, title, unit, labels, lines, stacked=True, palette="ramp")

    overall = _block_series(data["wt"], query.blocks)
    return [
        waits("chart-counts", "Jobs per interval, by wait time", "jobs", overall),
        waits(
            "chart-shares",
            "Share of each interval's jobs, by wait time",
            "% of jobs",
            shares_of(overall),
        ),
        *(
            waits(
                f"chart-platform-{index}",
                f"{name}: jobs per interval",
                "jobs",
                _block_series(entry["wt"], query.blocks),
            )
            for index, (name, entry) in enumerate(data["platforms"].items())
        ),
    ]


def _block_tables(data: dict[str, Any]) -> list[tuple[str, int, list]]:
    """(title, total, rows of block/count/percentage): overall, then each platform by name."""
    tables = [("All platforms", data["total"], block_rows(data["wt"], data["total"]))]
    for name, platform in data["platforms"].items():
        tables.append((name, platform["total"], block_rows(platform["wt"], platform["total"])))
    return tables


WAITTIMES = ReportPage(table, page)
