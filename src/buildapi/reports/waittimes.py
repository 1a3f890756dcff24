"""Wait times: how long a pool's jobs waited for a slave, in blocks of `mpb` minutes.

One pass over the request rows: each started job adds one to its block, overall and for its
platform, in the interval of the time it was asked for. The result has the legacy JSON keys
(docs/reports.md): block keys are strings, every block from 0 to the largest is present.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from buildapi.db.queries.waittimes import PoolFilter, WaitRow, wait_rows
from buildapi.errors import BadInput, NotFound
from buildapi.layout import FarmLayout
from buildapi.reports import classify
from buildapi.reports.window import Window
from buildapi.vocabulary import POOL_NAMES

DEFAULT_MPB = 15
DEFAULT_MAXB = 120
# l10n repacks wait on other things than slaves; they are listed, not counted.
UNKNOWN_BUILDER = re.compile(r".+ l10n .+")


@dataclass(frozen=True)
class BlockParams:
    """Minutes per block, and the largest block (0 = no cap), a multiple of mpb."""

    mpb: int
    maxb: int

    @classmethod
    def checked(cls, mpb: int | None, maxb: int | None) -> BlockParams:
        mpb = DEFAULT_MPB if mpb is None else mpb
        maxb = DEFAULT_MAXB if maxb is None else maxb
        if mpb <= 0:
            raise BadInput("mpb (minutes per block) must be a positive integer")
        if maxb < 0:
            raise BadInput("maxb (largest block in minutes) must not be negative")
        return cls(mpb, maxb // mpb * mpb)

    def block(self, wait_seconds: float) -> int:
        block = int(max(0.0, wait_seconds) / 60 // self.mpb) * self.mpb
        return min(block, self.maxb) if self.maxb else block

    def label(self, block: int) -> str:
        return f"{block}+" if self.maxb and block == self.maxb else f"{block}-{block + self.mpb}"


class _Counts:
    """Counts per block and interval."""

    def __init__(self, int_no: int) -> None:
        self.int_no = int_no
        self.total = 0
        self.blocks: dict[int, list[int]] = defaultdict(lambda: [0] * int_no)

    def add(self, block: int, interval: int) -> None:
        self.total += 1
        self.blocks[block][interval] += 1

    def shape(self, mpb: int) -> dict[str, dict[str, Any]]:
        largest = max(self.blocks, default=0)
        return {
            str(block): {
                "total": sum(self.blocks.get(block, ())),
                "intervals": list(self.blocks.get(block, [0] * self.int_no)),
            }
            for block in range(0, largest + 1, mpb)
        }


def pool_filter(layout: FarmLayout, pool: str) -> PoolFilter:
    """The pool's masters and builders from the layout. The layout keeps its last good copy
    when a document cannot be fetched, so the filter never silently disappears."""
    if pool not in POOL_NAMES:
        raise NotFound(f"Unknown pool {pool!r}; pools are: {', '.join(POOL_NAMES)}")
    return PoolFilter(
        master_db_names=[master.db_name for master in layout.masters if master.pool == pool],
        builders=sorted(name for name, builder in layout.builders.items() if builder.pool == pool),
    )


def pool_wait_times(
    connection: Connection, layout: FarmLayout, pool: str, window: Window, blocks: BlockParams
) -> dict[str, Any]:
    """The wait-time report of one pool, read from the scheduler database in one stream."""
    chosen = pool_filter(layout, pool)
    rows = wait_rows(connection, window.starttime, window.endtime, chosen)
    masters = list(chosen.master_db_names)
    return wait_times(rows, pool=pool, masters=masters, window=window, blocks=blocks)


def wait_times(
    rows: Iterable[WaitRow],
    *,
    pool: str,
    masters: list[str],
    window: Window,
    blocks: BlockParams,
) -> dict[str, Any]:
    """The wait-time report of `rows` (one per build request)."""
    overall = _Counts(window.int_no)
    platforms: dict[str, _Counts] = {}
    pending: list[str] = []
    other: set[str] = set()
    unknown: set[str] = set()
    no_changes = 0
    for row in rows:
        if UNKNOWN_BUILDER.match(row.buildername):
            unknown.add(row.buildername)
            continue
        if row.first_start is None:
            pending.append(row.buildername)
            continue
        platform = classify.platform(row.buildername) or classify.OTHER_PLATFORM
        if platform == classify.OTHER_PLATFORM:
            other.add(row.buildername)
        if not row.has_change:
            no_changes += 1
        block = blocks.block(row.first_start - row.requested_at)
        interval = window.index(row.requested_at)
        overall.add(block, interval)
        if platform not in platforms:
            platforms[platform] = _Counts(window.int_no)
        platforms[platform].add(block, interval)
    return {
        "pool": pool,
        "masters": masters,
        "starttime": window.starttime,
        "endtime": window.endtime,
        "int_size": window.int_size,
        "mpb": blocks.mpb,
        "maxb": blocks.maxb,
        "no_changes": no_changes,
        "otherplatforms": sorted(other),
        "unknownbuilders": sorted(unknown),
        "pending": sorted(pending),
        "total": overall.total,
        "wt": overall.shape(blocks.mpb),
        "platforms": {
            name: {"total": counts.total, "wt": counts.shape(blocks.mpb)}
            for name, counts in sorted(platforms.items())
        },
    }


def blocks_in_order(wt: dict[str, dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """(block minutes, its counts), shortest wait first: the JSON keys are strings."""
    return sorted(((int(key), entry) for key, entry in wt.items()), key=lambda item: item[0])


def block_rows(wt: dict[str, dict[str, Any]], total: int) -> list[tuple[int, int, float | None]]:
    """(block, count, percentage of total or None) in block order, for tables and mail."""
    return [
        (block, entry["total"], 100.0 * entry["total"] / total if total else None)
        for block, entry in blocks_in_order(wt)
    ]
