"""Write the live dump files (builds-pending.js, builds-running.js, builds-4hr.js.gz) in rounds,
and the daily files between them."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import orjson

from buildapi.clock import Clock, SystemClock
from buildapi.db.engines import Databases
from buildapi.db.queries.live import pending_rows, running_rows
from buildapi.dumps.builds import builds_document
from buildapi.dumps.daily import DailyDumps
from buildapi.dumps.shapes import pending_shape, running_shape
from buildapi.dumps.writer import write_atomically
from buildapi.layout import FarmLayout

log = logging.getLogger(__name__)

PENDING = "builds-pending.js"
RUNNING = "builds-running.js"
FOUR_HOURS = "builds-4hr.js.gz"
WINDOW = 4 * 3600


def write_live_dumps(databases: Databases, layout: FarmLayout, out: Path, now: float) -> list[Path]:
    """The three files other tools poll: pending, running, and builds of the last 4 hours."""
    names = list(layout.branches)
    with databases.schedulerdb.connect() as connection:
        pending = pending_shape(pending_rows(connection), names)
        running = running_shape(running_rows(connection), names)
    return [
        write_atomically(out / PENDING, [orjson.dumps(pending)], compress=False),
        write_atomically(out / RUNNING, [orjson.dumps(running)], compress=False),
        write_atomically(
            out / FOUR_HOURS, builds_document(databases, now - WINDOW, now), compress=True
        ),
    ]


def refresh_forever(
    databases: Databases,
    layout: FarmLayout,
    out: Path,
    every: float,
    stop: threading.Event,
    daily: bool = False,
    clock: Clock | None = None,
) -> None:
    """Rewrite the live dumps every `every` seconds until `stop`; a failed round is logged.
    With `daily`, the rest of each round goes to the daily files that are due, so a long
    history's days never hold the live files back by more than one day's file."""
    clock = clock or SystemClock()
    days = DailyDumps(databases, out) if daily else None
    while True:
        round_ends = clock.now() + every
        try:
            write_live_dumps(databases, layout, out, clock.now())
        except Exception:
            log.exception("writing the dumps failed; the previous files stay")
        if days is not None:
            _write_due_days(days, clock, round_ends, stop)
        if stop.wait(min(every, max(0.0, round_ends - clock.now()))):
            return


def _write_due_days(days: DailyDumps, clock: Clock, until: float, stop: threading.Event) -> None:
    """The due daily files, in what is left of the round until `until`."""
    try:
        days.write_due(clock.now(), lambda: clock.now() < until and not stop.is_set())
    except Exception:
        log.exception("writing the daily dumps failed; they are tried again next round")
