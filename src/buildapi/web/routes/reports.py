"""Reports over a time window: JSON, CSV for tables, and HTML pages with tables and charts."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import Response

from buildapi.reports.catalog import REPORTS
from buildapi.reports.waittimes import (
    BlockParams,
    block_rows,
    blocks_in_order,
    pool_wait_times,
)
from buildapi.reports.window import DEFAULT_INTERVALS, Window, make_window, parse_time
from buildapi.vocabulary import POOL_NAMES, POOLS
from buildapi.web.caching import cached
from buildapi.web.charts import chart, interval_labels
from buildapi.web.deps import AppState, State
from buildapi.web.negotiation import OutputFormat, TableFormat
from buildapi.web.params import Integer
from buildapi.web.responses import csv_response, render
from buildapi.web.vendor import chart_js_path

router = APIRouter()

TimeQuery = Annotated[
    str | None, Query(description="epoch seconds, or a YYYY-MM-DD date in the report time zone")
]
IntSizeQuery = Annotated[
    Integer | None, Query(description="interval seconds; default: a report's share of the window")
]
# Interval sizes offered as links on report pages: (label, seconds).
INTERVAL_SIZES = (("minute", 60), ("hour", 3600), ("day", 86400), ("week", 604800))
# Parameters the window form sets itself; the others are kept as hidden fields.
WINDOW_PARAMS = ("starttime", "endtime", "format")


def window_dependency(intervals: int = DEFAULT_INTERVALS) -> Callable[..., Window]:
    """The report window from the query; without `int_size` it is cut into `intervals`."""

    def report_window(
        state: State,
        starttime: TimeQuery = None,
        endtime: TimeQuery = None,
        int_size: IntSizeQuery = None,
    ) -> Window:
        zone = state.settings.zone
        return make_window(
            parse_time(starttime, "starttime", zone),
            parse_time(endtime, "endtime", zone, end=True),
            int_size,
            now=int(time.time()),  # a defaulted end is served too: whole seconds
            max_days=state.settings.reports_max_window_days,
            intervals=intervals,
        )

    return report_window


def block_params(
    mpb: Annotated[Integer | None, Query(description="minutes per block (default 15)")] = None,
    maxb: Annotated[
        Integer | None, Query(description="largest block in minutes, 0 = no cap (default 120)")
    ] = None,
) -> BlockParams:
    return BlockParams.checked(mpb, maxb)


ReportWindow = Annotated[Window, Depends(window_dependency())]
Blocks = Annotated[BlockParams, Depends(block_params)]
PoolPath = Annotated[str, Path(description=f"one of {', '.join(POOL_NAMES)}")]


@router.get("/reports", summary="The list of reports")
@cached(300)
def reports_menu(request: Request, fmt: OutputFormat, state: State) -> Response:
    data = [asdict(report) for report in REPORTS]
    return render_report(request, fmt, data, "reports/menu.html", "Reports")


@router.get("/reports/waittimes", summary="Wait times of the build pool")
@cached(60)
def waittimes_default(
    request: Request, fmt: TableFormat, state: State, window: ReportWindow, blocks: Blocks
) -> Response:
    return _waittimes(request, fmt, state, POOLS["build"], window, blocks)


@router.get("/reports/waittimes/{pool}", summary="Wait times of one slave pool")
@cached(60)
def waittimes(
    request: Request,
    fmt: TableFormat,
    state: State,
    pool: PoolPath,
    window: ReportWindow,
    blocks: Blocks,
) -> Response:
    return _waittimes(request, fmt, state, pool, window, blocks)


def _waittimes(
    request: Request, fmt: str, state: AppState, pool: str, window: Window, blocks: BlockParams
) -> Response:
    with state.databases.schedulerdb.connect() as connection:
        data = pool_wait_times(connection, state.layout, pool, window, blocks)
    if fmt == "csv":
        return csv_response(*_waittimes_table(data, window))
    context = {
        "tables": _html_tables(data),
        "charts": _waittimes_charts(data, window, blocks, state),
    }
    title = f"Wait times: {data['pool']}"
    return render_report(
        request,
        fmt,
        data,
        "reports/waittimes.html",
        title,
        window=window,
        pools=POOL_NAMES,
        **context,
    )


def render_report(
    request: Request, fmt: str, data: Any, template: str, title: str, **context: Any
) -> Response:
    """JSON, or the report page with the report menu, the window form and its links."""
    if fmt == "json":
        return render(request, fmt, data)
    params = request.query_params

    def with_params(**changes: Any) -> str:
        merged = {key: value for key, value in params.items() if key != "format"} | changes
        return urlencode(merged)

    return render(
        request,
        fmt,
        data,
        template=template,
        title=title,
        report_menu=REPORTS,
        generated_at=time.time(),
        keep_params=[(k, v) for k, v in params.items() if k not in WINDOW_PARAMS],
        with_params=with_params,
        interval_sizes=INTERVAL_SIZES,
        chart_js=chart_js_path(),
        **context,
    )


def _waittimes_table(data: dict[str, Any], window: Window) -> tuple[list[str], list[list[Any]]]:
    """One row per (platform, block): overall first (platform `all`), counts per interval."""
    header = ["platform", "block", "total", *map(str, window.interval_starts())]
    scopes = [("all", data["wt"]), *((p, v["wt"]) for p, v in data["platforms"].items())]
    rows = [
        [platform, block, entry["total"], *entry["intervals"]]
        for platform, wt in scopes
        for block, entry in blocks_in_order(wt)
    ]
    return header, rows


def _waittimes_charts(
    data: dict[str, Any], window: Window, blocks: BlockParams, state: AppState
) -> list[dict[str, Any]]:
    """Jobs per interval stacked by wait block: counts and shares overall, counts per platform.
    Short waits come first, so the ramp palette paints them green and long ones red."""
    labels = interval_labels(state.settings.zone, window.interval_starts())

    def series(wt: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            {"label": f"{blocks.label(block)} min", "data": entry["intervals"]}
            for block, entry in blocks_in_order(wt)
        ]

    def waits(canvas: str, title: str, unit: str, lines: list[dict[str, Any]]) -> dict[str, Any]:
        return chart(canvas, title, unit, labels, lines, stacked=True, palette="ramp")

    overall = series(data["wt"])
    totals = [sum(column) for column in zip(*(line["data"] for line in overall), strict=True)]
    shares = [
        {
            "label": line["label"],
            "data": [
                round(100 * n / total, 2) if total else 0
                for n, total in zip(line["data"], totals, strict=True)
            ],
        }
        for line in overall
    ]
    return [
        waits("chart-counts", "Jobs per interval, by wait time", "jobs", overall),
        waits("chart-shares", "Share of each interval's jobs, by wait time", "% of jobs", shares),
        *(
            waits(
                f"chart-platform-{index}", f"{name}: jobs per interval", "jobs", series(entry["wt"])
            )
            for index, (name, entry) in enumerate(data["platforms"].items())
        ),
    ]


def _html_tables(data: dict[str, Any]) -> list[tuple[str, int, list]]:
    """(title, total, rows of block/count/percentage): overall, then each platform by name."""
    tables = [("All platforms", data["total"], block_rows(data["wt"], data["total"]))]
    for name, platform in data["platforms"].items():
        tables.append((name, platform["total"], block_rows(platform["wt"], platform["total"])))
    return tables
