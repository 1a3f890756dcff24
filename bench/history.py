"""How fast `write_history` fills fresh SQLite databases, against the floor: the very same rows
inserted again by a bare DBAPI executemany, with no generation logic, in the same run.

    .venv/bin/python bench/history.py --days 1 --jobs-per-day 20000
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

from datadir import in_data_dir
from sqlalchemy import Engine, MetaData

from buildapi.config import Settings, load_settings
from buildapi.db.engines import Databases
from buildapi.db.schema import scheduler_metadata, status_metadata
from buildapi.db.setup import init_databases
from buildapi.farm.history import HistoryStats, write_history
from buildapi.layout import load_layout
from buildapi.layout.loader import example_location

END = 1_780_000_000.0  # a fixed end, so runs with the same arguments write the same rows
BATCH = 5000


def main() -> None:
    args = parse_args()
    in_data_dir(args.data_dir, "bench-", lambda base: run(args, base))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=float, default=1.0, help="days of history (default 1)")
    parser.add_argument(
        "--jobs-per-day", type=int, default=20000, help="build requests a day (default 20000)"
    )
    parser.add_argument("--data-dir", help="where the databases go (default: a temporary dir)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the history (default 1)")
    parser.add_argument(
        "--slave-factor",
        type=int,
        default=1,
        help="run on N times the example layout's slaves, so a big target does not only queue",
    )
    return parser.parse_args()


def run(args: argparse.Namespace, base: Path) -> None:
    settings = load_settings(**settings_for(base / "history", args.slave_factor))
    history = fresh_databases(settings)
    floor = fresh_databases(load_settings(data_dir=base / "floor"))
    try:
        stats = write_history(
            load_layout(settings),
            history,
            days=args.days,
            jobs_per_day=args.jobs_per_day,
            seed=args.seed,
            end=END,
            zone=settings.zone,
        )
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        rows, floor_seconds = insert_again(history, floor)
        report(args, stats, rows, floor_seconds, peak, base / "history")
    finally:
        history.dispose()
        floor.dispose()


def settings_for(directory: Path, slave_factor: int) -> dict[str, object]:
    """Settings flags: the data directory, and a bigger slaves document when asked."""
    flags: dict[str, object] = {"data_dir": directory}
    if slave_factor > 1:
        pools = json.loads(Path(example_location("slaves.json")).read_text(encoding="utf-8"))
        bigger = {
            pool: [f"{pool}-{n:05d}" for n in range(1, len(names) * slave_factor + 1)]
            for pool, names in pools.items()
        }
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / "slaves.json"
        path.write_text(json.dumps(bigger), encoding="utf-8")
        flags["slaves_url"] = str(path)
    return flags


def fresh_databases(settings: Settings) -> Databases:
    databases = Databases.from_settings(settings)
    init_databases(databases)
    return databases


def insert_again(source: Databases, target: Databases) -> tuple[int, float]:
    """Copy every row into the empty databases; only the executemany calls and the commits
    are timed. Returns (rows, seconds)."""
    rows, seconds = 0, 0.0
    for metadata, read, write in (
        (scheduler_metadata, source.schedulerdb, target.schedulerdb),
        (status_metadata, source.statusdb, target.statusdb),
    ):
        copied, spent = copy_tables(metadata, read, write)
        rows += copied
        seconds += spent
    return rows, seconds


def copy_tables(metadata: MetaData, read: Engine, write: Engine) -> tuple[int, float]:
    rows, seconds = 0, 0.0
    reader, writer = read.raw_connection(), write.raw_connection()
    try:
        for name, table in metadata.tables.items():
            columns = ", ".join(f'"{column.name}"' for column in table.columns)
            marks = ", ".join("?" for _ in table.columns)
            insert = f'INSERT INTO "{name}" ({columns}) VALUES ({marks})'
            cursor = reader.cursor()
            cursor.execute(f'SELECT {columns} FROM "{name}"')
            while batch := cursor.fetchmany(BATCH):
                began = time.perf_counter()
                writer.cursor().executemany(insert, batch)
                seconds += time.perf_counter() - began
                rows += len(batch)
        began = time.perf_counter()
        writer.commit()
        seconds += time.perf_counter() - began
    finally:
        reader.close()
        writer.close()
    return rows, seconds


def report(
    args: argparse.Namespace,
    stats: HistoryStats,
    rows: int,
    floor_seconds: float,
    peak_mib: float,
    directory: Path,
) -> None:
    size = sum(path.stat().st_size for path in directory.glob("*.sqlite*")) / 2**20
    print(f"history: {args.days:g} days x {args.jobs_per_day} jobs/day, seed {args.seed}")
    print(
        f"  {stats.requests} requests, {stats.buildsets} buildsets, {stats.pushes} pushes, "
        f"{stats.builds} builds rows, {stats.status_builds} statusdb builds"
    )
    print(f"  {stats.rows} rows written ({rows} in the databases), {size:.0f} MiB of SQLite")
    print(
        f"  {stats.seconds:.1f} s: {stats.requests / stats.seconds:.0f} requests/s, "
        f"{stats.rows / stats.seconds:.0f} rows/s; peak memory {peak_mib:.0f} MiB"
    )
    print(
        f"floor (same rows, bare executemany): {floor_seconds:.1f} s, "
        f"{rows / floor_seconds:.0f} rows/s; history takes {stats.seconds / floor_seconds:.1f}x"
    )


if __name__ == "__main__":
    main()
