"""A farm's past, written straight into schedulerdb and statusdb so reports and benchmarks have
months of data.

The live farm (farm.py) steps a clock and writes row by row, far too slowly for months. Here
one discrete-event simulation runs over the window with the live farm's own parts (pushes,
job plans, properties, routing, slave pools) and writes every row once, in its final state,
with bulk inserts and ids counted from the databases' highest ones; one simulated day is one
transaction, so memory holds only what is still pending or running.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from buildapi.config import DEFAULT_PUSH_RATES
from buildapi.db.engines import Databases
from buildapi.db.queries.bulk import (
    BulkInserter,
    known_properties,
    last_buildnumbers,
    next_ids,
    raise_last_processed,
    status_names,
    sync_sequences,
)
from buildapi.db.queries.changes import latest_revision
from buildapi.db.schema import scheduler_metadata, status_metadata
from buildapi.farm.history.calibration import Calibration, calibrate
from buildapi.farm.history.records import Ids, Sinks, StatusRows
from buildapi.farm.history.simulation import History
from buildapi.farm.history.tuning import SHORT_LIVED_PROPERTIES
from buildapi.farm.schedulers import CLASS_NAME, DAY
from buildapi.farm.selection import Selector
from buildapi.layout import FarmLayout


@dataclass(frozen=True)
class HistoryStats:
    """What one run wrote."""

    pushes: int
    buildsets: int
    requests: int
    builds: int  # schedulerdb builds rows (one per request a build ran)
    status_builds: int  # idle builds included
    idle_builds: int  # statusdb builds of idle jobs, which no request asked for
    rows: int  # rows inserted into both databases
    seconds: float


# -- the entry point --------------------------------------------------------------------------


def write_history(
    layout: FarmLayout,
    databases: Databases,
    *,
    days: float,
    jobs_per_day: int,
    seed: int,
    end: float,
    zone: ZoneInfo,
    progress: Callable[[int], None] | None = None,
    push_rates: Mapping[str, float] | None = None,
) -> HistoryStats:
    """Write `days` of history ending at `end`, about `jobs_per_day` build requests a day,
    after the rows already in the databases (ids, build numbers); choose an `end` whose window
    starts after them, so build numbers keep increasing with time. Builds still running at
    `end` are left running, requests not started pending. `push_rates` (pushes per hour,
    default the settings' defaults) only sets how branches share the pushes. After each
    simulated day, `progress` gets the number of requests made that day (an increment, as a
    progress bar's `update` takes). Same arguments on empty databases give identical rows."""
    if days <= 0 or jobs_per_day <= 0:
        raise ValueError("days and jobs_per_day must be positive")
    began = time.perf_counter()
    start = end - days * DAY
    selector = Selector(layout)
    rates = DEFAULT_PUSH_RATES if push_rates is None else push_rates
    calibration = calibrate(
        layout, selector, days=days, jobs_per_day=jobs_per_day, push_rates=rates, seed=seed
    )
    history = resume(
        layout, databases, selector, calibration, seed=seed, start=start, end=end, zone=zone
    )
    written = reported = 0
    for day in range(1, math.ceil(days) + 1):
        limit = min(start + day * DAY, end)
        written += write_day(history, databases, limit)
        if progress is not None:
            progress(history.counts.requests - reported)
            reported = history.counts.requests
    counts = history.counts
    return HistoryStats(
        pushes=counts.pushes,
        buildsets=counts.buildsets,
        requests=counts.requests,
        builds=counts.builds,
        status_builds=counts.status_builds,
        idle_builds=counts.idle_builds,
        rows=written,
        seconds=time.perf_counter() - began,
    )


def write_day(history: History, databases: Databases, limit: float) -> int:
    """Simulate up to `limit` in one transaction per database; at the end, also write what
    is left running or pending. Returns the rows written."""
    last = limit >= history.end
    with databases.schedulerdb.begin() as scheduler, databases.statusdb.begin() as status:
        out = Sinks(
            BulkInserter(scheduler, scheduler_metadata), BulkInserter(status, status_metadata)
        )
        history.run_until(limit, out)
        if last:
            history.close()
        out.flush()
        if last:
            sync_sequences(scheduler, scheduler_metadata)
            sync_sequences(status, status_metadata)
            if history.counts.pushes:
                # The live farm's change scheduler must not schedule these pushes again.
                raise_last_processed(scheduler, "changes", CLASS_NAME, history.ids.last("changes"))
    history.status.next_day()
    return out.written


def resume(
    layout: FarmLayout,
    databases: Databases,
    selector: Selector,
    calibration: Calibration,
    *,
    seed: int,
    start: float,
    end: float,
    zone: ZoneInfo,
) -> History:
    """A simulation that continues after the rows already there: ids, build numbers, the
    statusdb's shared rows and each branch's newest revision."""
    with databases.schedulerdb.connect() as scheduler, databases.statusdb.connect() as status:
        return History(
            layout,
            selector,
            calibration,
            seed=seed,
            start=start,
            end=end,
            zone=zone,
            ids=Ids(next_ids(scheduler, scheduler_metadata)),
            status=StatusRows(
                Ids(next_ids(status, status_metadata)),
                status_names(status),
                known_properties(status, excluding=SHORT_LIVED_PROPERTIES),
            ),
            numbers=last_buildnumbers(status),
            latest={
                branch: latest_revision(scheduler, layout.branches[branch].repo_path)
                for branch in sorted(layout.branches)
            },
        )
