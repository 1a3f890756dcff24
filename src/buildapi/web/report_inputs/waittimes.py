"""The wait-time report's query (pool, window, blocks) and its loader."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Query

from buildapi.reports.pages.waittimes import WaitTimesQuery
from buildapi.reports.waittimes import BlockParams, pool_wait_times
from buildapi.vocabulary import POOL_NAMES, POOLS
from buildapi.web.deps import AppState
from buildapi.web.params import Integer
from buildapi.web.report_params import ReportWindow


def block_params(
    mpb: Annotated[Integer | None, Query(description="minutes per block (default 15)")] = None,
    maxb: Annotated[
        Integer | None, Query(description="largest block in minutes, 0 = no cap (default 120)")
    ] = None,
) -> BlockParams:
    return BlockParams.checked(mpb, maxb)


Blocks = Annotated[BlockParams, Depends(block_params)]


def build_pool_query(window: ReportWindow, blocks: Blocks) -> WaitTimesQuery:
    return WaitTimesQuery(POOLS["build"], window, blocks)


def pool_query(
    pool: Annotated[str, Path(description=f"one of {', '.join(POOL_NAMES)}")],
    window: ReportWindow,
    blocks: Blocks,
) -> WaitTimesQuery:
    return WaitTimesQuery(pool, window, blocks)


def load(state: AppState, query: WaitTimesQuery) -> dict[str, Any]:
    with state.databases.schedulerdb.connect() as connection:
        return pool_wait_times(connection, state.layout, query.pool, query.window, query.blocks)
