"""`buildapi farm` and `buildapi farm history`: run the simulated farm, or write its past."""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING

from buildapi.cli.databases import open_databases
from buildapi.config import Settings
from buildapi.db.engines import Databases

if TYPE_CHECKING:  # imported when a command runs, so `buildapi --help` stays quick
    from buildapi.farm.history import HistoryStats
    from buildapi.layout import FarmLayout


def run_farm(_args: argparse.Namespace, settings: Settings) -> int:
    import signal
    import threading

    from buildapi.farm.launch import RunningFarm, build_farm
    from buildapi.layout import load_layout

    layout = load_layout(settings)
    databases = open_databases(settings, "farm")
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        with RunningFarm(build_farm(settings, layout, databases), settings):
            print(f"farm running at {settings.farm_speed:g}x; Ctrl-C stops it", flush=True)
            stop.wait()
    finally:
        databases.dispose()
    return 0


def run_farm_history(args: argparse.Namespace, settings: Settings) -> int:
    from buildapi.layout import load_layout

    databases = open_databases(settings, "farm history")
    try:
        stats = write_farm_history(
            settings,
            load_layout(settings),
            databases,
            args.days,
            args.jobs_per_day,
            getattr(args, "end", None),
        )
    finally:
        databases.dispose()
    print(
        f"wrote {stats.requests} build requests in {stats.buildsets} buildsets, "
        f"{stats.builds} builds, in {stats.seconds:.1f} s"
    )
    return 0


def run_farm_bigday(args: argparse.Namespace, settings: Settings) -> int:
    import datetime

    from buildapi.farm.bigday import BigDay, write_big_day
    from buildapi.layout import load_layout
    from buildapi.times import midnight

    layout = load_layout(settings)
    branch = layout.branches.get(args.branch)
    if branch is None:
        raise SystemExit(f"unknown branch {args.branch!r}: not in the branches config")
    date = args.date or datetime.datetime.now(settings.zone).date()
    start = midnight(date, settings.zone, "date")
    end = min(midnight(date, settings.zone, "date", days_later=1), int(time.time()))
    day = BigDay(
        branch=branch.repo_path,
        builders=sorted(layout.builders_for_branch(args.branch)) or [f"{args.branch} build"],
        start=start,
        end=max(end, start + 1),
        jobs=args.jobs,
    )
    databases = open_databases(settings, "farm bigday")
    try:
        written = write_big_day(databases, day)
    finally:
        databases.dispose()
    print(f"wrote {written} build requests of {args.branch} on {date}")
    return 0


def write_farm_history(
    settings: Settings,
    layout: FarmLayout,
    databases: Databases,
    days: float,
    jobs_per_day: int,
    end: float | None = None,
) -> HistoryStats:
    """Days of past builds ending at `end` (default now), with a progress bar on a terminal."""
    from tqdm import tqdm

    from buildapi.farm.history import write_history

    total = int(days * jobs_per_day)
    with tqdm(total=total, unit="req", desc="history", disable=None) as bar:
        return write_history(
            layout,
            databases,
            days=days,
            jobs_per_day=jobs_per_day,
            seed=settings.farm_seed,
            end=end or time.time(),
            zone=settings.zone,
            progress=bar.update,
            push_rates=settings.farm_push_rates,
        )
