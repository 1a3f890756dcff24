"""Write the live dump files: builds-pending.js, builds-running.js and builds-4hr.js.gz."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import orjson

from buildapi.db.engines import Databases
from buildapi.db.queries.live import pending_rows, running_rows
from buildapi.dumps.builds import builds_document
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
) -> None:
    """Rewrite the live dumps every `every` seconds until `stop`; a failed round is logged."""
    while True:
        try:
            write_live_dumps(databases, layout, out, time.time())
        except Exception:
            log.exception("writing the dumps failed; the previous files stay")
        if stop.wait(every):
            return
