"""How fast the read endpoints answer, against their floor: the bare SQL that reads the same
rows, executed and fully fetched, in the same run.

    .venv/bin/python bench/read_endpoints.py --data-dir reads-1m --days 10 --jobs-per-day 100000

The dataset is made by the history generator on fresh databases (SQLite in --data-dir, or the
--*-url servers), then topped up with pending requests and running builds until the targets
are met, and a self-serve job log is added; a directory that already holds a dataset is reused.
Every timed call carries a unique dummy query parameter, so the response cache never answers.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import random
import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datadir import in_data_dir
from sqlalchemy import Engine, func, insert, select, text
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Message, Scope

from buildapi.config import Settings, load_settings
from buildapi.db.engines import Databases
from buildapi.db.queries.buildrequests import insert_build
from buildapi.db.queries.buildsets import NewBuildset, buildset_properties_of, insert_buildset
from buildapi.db.queries.status_builds import naive_utc
from buildapi.db.schema.buildapi import jobrequests
from buildapi.db.schema.scheduler import buildrequests, buildsets, sourcestamps
from buildapi.db.setup import init_databases
from buildapi.dumps.builds import builds_document
from buildapi.farm.history import write_history
from buildapi.layout import FarmLayout, load_layout
from buildapi.layout.loader import example_location
from buildapi.web.app import create_app

END = 1_780_000_000.0  # a fixed end, so runs with the same arguments write the same rows
MARKER = "dataset.json"
BRANCH = "mozilla-inbound"
NO_SQL = f"/self-serve/{BRANCH}/builders"
WARM_UP = 10
HOUR = 3600
DAY = 86400


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=float, default=10.0, help="days of history (default 10)")
    parser.add_argument(
        "--jobs-per-day", type=int, default=100000, help="build requests a day (default 100000)"
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the history (default 1)")
    parser.add_argument(
        "--slave-factor",
        type=int,
        default=6,
        help="run on N times the example layout's slaves (default 6, as bench/history.py)",
    )
    parser.add_argument(
        "--data-dir",
        help="SQLite databases and the dataset marker (default: a temporary dir, removed "
        "afterwards); reused if it already holds a dataset",
    )
    parser.add_argument("--schedulerdb-url", help="a server database instead of SQLite")
    parser.add_argument("--statusdb-url", help="a server database instead of SQLite")
    parser.add_argument("--buildapi-db-url", help="a server database instead of SQLite")
    parser.add_argument(
        "--pending", type=int, default=10000, help="pending requests to have at the end"
    )
    parser.add_argument("--running", type=int, default=3000, help="running builds to have")
    parser.add_argument("--jobs", type=int, default=5000, help="self-serve job log rows to add")
    parser.add_argument("--runs", type=int, default=7, help="timed runs per endpoint (median)")
    parser.add_argument("--output", help="also write the Markdown table to this file")
    parser.add_argument("--generate-only", action="store_true", help="stop after the dataset")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


# -- the dataset ------------------------------------------------------------------------------


def settings_flags(args: argparse.Namespace, directory: Path) -> dict[str, object]:
    flags: dict[str, object] = {
        "data_dir": directory,
        "schedulerdb_url": args.schedulerdb_url,
        "statusdb_url": args.statusdb_url,
        "buildapi_db_url": args.buildapi_db_url,
    }
    if args.slave_factor > 1:
        pools = json.loads(Path(example_location("slaves.json")).read_text(encoding="utf-8"))
        bigger = {
            pool: [f"{pool}-{n:05d}" for n in range(1, len(names) * args.slave_factor + 1)]
            for pool, names in pools.items()
        }
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / "slaves.json"
        path.write_text(json.dumps(bigger), encoding="utf-8")
        flags["slaves_url"] = str(path)
    return flags


def dataset(
    args: argparse.Namespace, base: Path
) -> tuple[Settings, Databases, FarmLayout, dict[str, Any]]:
    settings = load_settings(**settings_flags(args, base))
    databases = Databases.from_settings(settings)
    layout = load_layout(settings)
    marker = base / MARKER
    if marker.exists():
        info = json.loads(marker.read_text(encoding="utf-8"))
        print(f"reusing the dataset in {base}", flush=True)
        if "jobs_added" not in info:  # the history was written, the rest was not
            finish_dataset(databases, layout, args, info)
            marker.write_text(json.dumps(info, indent=1), encoding="utf-8")
        return settings, databases, layout, info
    init_databases(databases)
    print("writing the history ...", flush=True)
    stats = write_history(
        layout,
        databases,
        days=args.days,
        jobs_per_day=args.jobs_per_day,
        seed=args.seed,
        end=END,
        zone=settings.zone,
    )
    info: dict[str, Any] = {
        "days": args.days,
        "jobs_per_day": args.jobs_per_day,
        "seed": args.seed,
        "slave_factor": args.slave_factor,
        "end": END,
        "requests_written": stats.requests,
        "buildsets": stats.buildsets,
        "pushes": stats.pushes,
        "builds": stats.builds,
        "status_builds": stats.status_builds,
        "generation_seconds": round(stats.seconds, 1),
    }
    finish_dataset(databases, layout, args, info)
    marker.write_text(json.dumps(info, indent=1), encoding="utf-8")
    return settings, databases, layout, info


def finish_dataset(
    databases: Databases, layout: FarmLayout, args: argparse.Namespace, info: dict[str, Any]
) -> None:
    """Top the history up with pending and running work and a job log; count what is there."""
    began = time.perf_counter()
    info.update(counts(databases))
    info["pending_from_history"] = info["pending"]
    info["running_from_history"] = info["running"]
    info.update(top_up(databases, layout, args.pending, args.running, args.seed))
    info["jobs_added"] = add_jobs(databases, args.jobs, args.seed)
    info.update(counts(databases))
    for engine in (databases.schedulerdb, databases.statusdb, databases.buildapi_db):
        if engine.dialect.name == "postgresql":  # planner statistics after the bulk load
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("ANALYZE"))
    info["top_up_seconds"] = round(time.perf_counter() - began, 1)


PENDING_SQL = "SELECT count(*) FROM buildrequests WHERE claimed_at = 0 AND complete = 0"
RUNNING_SQL = (
    "SELECT count(*) FROM builds b JOIN buildrequests br ON br.id = b.brid "
    "WHERE br.claimed_at > 0 AND br.complete = 0 AND b.finish_time IS NULL"
)


def counts(databases: Databases) -> dict[str, int]:
    with databases.schedulerdb.connect() as scheduler:
        requests = scheduler.execute(text("SELECT count(*) FROM buildrequests")).scalar_one()
        pending = scheduler.execute(text(PENDING_SQL)).scalar_one()
        running = scheduler.execute(text(RUNNING_SQL)).scalar_one()
    with databases.statusdb.connect() as status:
        status_builds = status.execute(text("SELECT count(*) FROM builds")).scalar_one()
        properties = status.execute(text("SELECT count(*) FROM build_properties")).scalar_one()
    return {
        "requests": requests,
        "pending": pending,
        "running": running,
        "status_builds_total": status_builds,
        "status_build_properties": properties,
    }


def top_up(
    databases: Databases, layout: FarmLayout, pending: int, running: int, seed: int
) -> dict[str, int]:
    """Order more work on the newest pushes, with `insert_buildset` (properties copied from
    the push's own buildset), until `pending` requests wait and `running` builds run: requests
    of the last few hours, the running ones claimed by a master with a live `builds` row.
    Only the scheduler database gets them (the status database has no pending work)."""
    rng = random.Random(seed)
    now = int(END)
    short = {branch.repo_path: name for name, branch in layout.branches.items()}
    masters = [master.db_name for master in layout.masters]
    added = {"pending_added": 0, "running_added": 0}
    with databases.schedulerdb.begin() as connection:
        missing = {
            "pending": max(0, pending - connection.execute(text(PENDING_SQL)).scalar_one()),
            "running": max(0, running - connection.execute(text(RUNNING_SQL)).scalar_one()),
        }
        newest = connection.execute(
            select(buildsets.c.id, buildsets.c.reason, sourcestamps.c.id, sourcestamps.c.branch)
            .join(sourcestamps, sourcestamps.c.id == buildsets.c.sourcestampid)
            .where(sourcestamps.c.revision.is_not(None))
            .order_by(buildsets.c.id.desc())
            .limit(2000)
        ).all()
        seen: set[int] = set()
        pushes = [row for row in newest if not (row[2] in seen or seen.add(row[2]))]
        number = 1_000_000
        for kind in ("running", "pending"):
            while missing[kind] > 0:
                bsid, reason, ssid, repo_path = pushes[rng.randrange(len(pushes))]
                names = sorted(layout.builders_for_branch(short.get(repo_path, repo_path)))
                if not names:
                    continue
                chosen = rng.sample(names, min(len(names), missing[kind], 40))
                submitted = now - rng.randrange(1, 3 * HOUR)
                _, brids = insert_buildset(
                    connection,
                    NewBuildset(
                        reason=reason or "scheduler",
                        submitted_at=submitted,
                        builders=chosen,
                        properties=buildset_properties_of(connection, bsid),
                        sourcestampid=ssid,
                    ),
                )
                if kind == "running":
                    for brid in brids:
                        started = rng.randrange(submitted, now)
                        connection.execute(
                            buildrequests.update()
                            .where(buildrequests.c.id == brid)
                            .values(
                                claimed_at=now - rng.randrange(1, 60),
                                claimed_by_name=rng.choice(masters),
                                claimed_by_incarnation="bench",
                            )
                        )
                        number += 1
                        insert_build(connection, brid, number, started)
                missing[kind] -= len(brids)
                added[f"{kind}_added"] += len(brids)
    return added


def add_jobs(databases: Databases, count: int, seed: int) -> int:
    """A self-serve job log: `count` finished rebuild/cancel requests over the window."""
    if count <= 0:
        return 0
    rng = random.Random(seed)
    with databases.buildapi_db.begin() as connection:
        if connection.execute(select(func.count()).select_from(jobrequests)).scalar_one():
            return 0
        rows = []
        for n in range(count):
            when = int(END) - rng.randrange(10 * DAY)
            action = rng.choice(["rebuild_build", "cancel_request", "new_build_at_rev"])
            what = {"branch": BRANCH, "build_id": rng.randrange(1, 10**6)}
            rows.append(
                {
                    "action": action,
                    "who": f"dev{rng.randrange(200)}@example.com",
                    "when": when,
                    "completed_at": when + rng.randrange(1, 60),
                    "what": json.dumps(what),
                    "complete_data": json.dumps({"status": "ok", "n": n}),
                    "state": "complete",
                    "branch": BRANCH,
                    "idempotency_key": f"bench-{n}",
                    "attempts": 1,
                }
            )
        connection.execute(insert(jobrequests), rows)
    return count


# -- the subjects: the same rows, through the app and as bare SQL -----------------------------


@dataclass
class Subject:
    name: str
    call: Callable[[int, bool], int]  # (run n, count?) -> items returned, when counted
    floor: Callable[[], int]  # -> SQL rows fetched
    sql: bool = True  # False: the endpoint reads no database, there is no floor
    http: bool = True  # False: called in Python, no round trip to take off


def fetch(engine: Engine, *queries: tuple[str, dict[str, Any]]) -> int:
    rows = 0
    with engine.connect() as connection:
        for sql, params in queries:
            rows += len(connection.execute(text(sql), params).all())
    return rows


def http(client: TestClient, path: str, count: Callable[[Any], int]) -> Callable[[int, bool], int]:
    sep = "&" if "?" in path else "?"

    def call(n: int, counting: bool) -> int:
        response = client.get(f"{path}{sep}format=json&_n={n}")
        if response.status_code != 200 or response.headers.get("X-Cache") == "hit":
            raise SystemExit(f"{path}: {response.status_code} {response.headers}")
        return count(response.json()) if counting else 0  # parsing is not timed

    return call


def nested(data: dict[str, dict[str, dict[str, list]]], key: str) -> int:
    return sum(len(items) for revs in data[key].values() for items in revs.values())


REQUEST_SELECT = (
    "SELECT br.id, br.buildername, ss.branch, ss.revision, br.submitted_at, br.complete, "
    "br.complete_at, br.priority, br.claimed_at, bs.reason, br.buildsetid, br.results, "
    "br.claimed_by_name, br.claimed_by_incarnation "
    "FROM buildrequests br JOIN buildsets bs ON bs.id = br.buildsetid "
    "JOIN sourcestamps ss ON ss.id = bs.sourcestampid "
)
BUILD_SELECT = (
    "SELECT b.id, b.number, b.start_time, b.finish_time, br.id, br.buildername, ss.branch, "
    "ss.revision, br.submitted_at, br.complete, br.complete_at, br.priority, br.claimed_at, "
    "bs.reason, br.buildsetid, br.results, br.claimed_by_name, br.claimed_by_incarnation "
    "FROM builds b JOIN buildrequests br ON br.id = b.brid "
    "JOIN buildsets bs ON bs.id = br.buildsetid "
    "JOIN sourcestamps ss ON ss.id = bs.sourcestampid "
)
PENDING_ROWS = (
    "SELECT br.id, ss.branch, ss.revision, br.buildername, br.submitted_at, br.priority "
    "FROM buildrequests br JOIN buildsets bs ON bs.id = br.buildsetid "
    "JOIN sourcestamps ss ON ss.id = bs.sourcestampid "
    "WHERE br.claimed_at = 0 AND br.complete = 0 "
)
RUNNING_ROWS = (
    "SELECT b.id, br.id, ss.branch, ss.revision, br.buildername, br.submitted_at, "
    "br.claimed_at, br.claimed_by_name, b.start_time, b.number "
    "FROM builds b JOIN buildrequests br ON br.id = b.brid "
    "JOIN buildsets bs ON bs.id = br.buildsetid "
    "JOIN sourcestamps ss ON ss.id = bs.sourcestampid "
    "WHERE br.claimed_at > 0 AND br.complete = 0 AND b.finish_time IS NULL "
)
REVISION_ROWS = (
    "SELECT br.id, br.buildsetid, br.buildername, br.submitted_at, br.claimed_at, "
    "br.claimed_by_name, br.results, ss.branch, ss.revision, b.start_time, b.finish_time, "
    "b.number FROM buildrequests br JOIN buildsets bs ON bs.id = br.buildsetid "
    "JOIN sourcestamps ss ON ss.id = bs.sourcestampid "
    "LEFT JOIN builds b ON b.brid = br.id "
    "WHERE ss.branch = :branch AND ss.revision = :rev ORDER BY br.id, b.id"
)
PROPERTIES = (
    "SELECT buildsetid, property_name, property_value FROM buildset_properties "
    "WHERE buildsetid = :bsid"
)
PUSHES = (
    "SELECT author, count(*) FROM (SELECT DISTINCT ss.revision, ss.branch, c.author "
    "FROM sourcestamps ss JOIN sourcestamp_changes sc ON sc.sourcestampid = ss.id "
    "JOIN changes c ON c.changeid = sc.changeid WHERE c.when_timestamp >= :start) pushes "
    "GROUP BY author"
)
RECENT = (
    "SELECT b.id, bu.name, b.buildnumber, b.starttime, b.endtime, b.result, s.name, m.name, "
    "p.value FROM (SELECT * FROM builds ORDER BY id DESC LIMIT 25) b "
    "JOIN builders bu ON bu.id = b.builder_id JOIN slaves s ON s.id = b.slave_id "
    "LEFT JOIN masters m ON m.id = b.master_id "
    "LEFT JOIN build_properties bp ON bp.build_id = b.id "
    "AND bp.property_id IN (SELECT id FROM properties WHERE name = 'buildername') "
    "LEFT JOIN properties p ON p.id = bp.property_id ORDER BY b.id DESC"
)
JOBS = (
    'SELECT id, action, who, "when", completed_at, what, complete_data, state, branch '
    'FROM jobrequests ORDER BY "when" DESC, id DESC LIMIT 100'
)
DUMP_FLOOR = (
    "SELECT b.id, b.builder_id, b.slave_id, b.master_id, b.buildnumber, b.starttime, "
    "b.endtime, b.result, b.reason, p.name, p.value "
    # CROSS JOIN: SQLite joins in this order (window first); other planners pick freely.
    "FROM builds b CROSS JOIN build_properties bp CROSS JOIN properties p "
    "WHERE bp.build_id = b.id AND p.id = bp.property_id "
    "AND b.endtime >= :start AND b.endtime <= :end ORDER BY b.starttime, b.id"
)
DUMP_NAMES = (
    "SELECT id, name, category, master_id FROM builders WHERE id IN "
    "(SELECT builder_id FROM builds WHERE endtime >= :start AND endtime <= :end)",
    "SELECT id, name FROM slaves WHERE id IN "
    "(SELECT slave_id FROM builds WHERE endtime >= :start AND endtime <= :end)",
)


@dataclass(frozen=True)
class Targets:
    day: str
    day_start: int
    day_end: int
    revision: str
    build_id: int
    request_id: int
    bsid: int


def pick_targets(settings: Settings, databases: Databases, repo_path: str) -> Targets:
    """The last full day before `end`; the branch's revision with the most requests, with one
    of its builds and requests."""
    zone = settings.zone
    day = (datetime.datetime.fromtimestamp(END, zone) - datetime.timedelta(days=1)).date()
    start = datetime.datetime.combine(day, datetime.time(), zone)
    end = start + datetime.timedelta(days=1)
    with databases.schedulerdb.connect() as connection:
        revision = connection.execute(
            text(
                "SELECT ss.revision FROM buildrequests br "
                "JOIN buildsets bs ON bs.id = br.buildsetid "
                "JOIN sourcestamps ss ON ss.id = bs.sourcestampid "
                "WHERE ss.branch = :branch AND ss.revision IS NOT NULL "
                "GROUP BY ss.revision ORDER BY count(*) DESC LIMIT 1"
            ),
            {"branch": repo_path},
        ).scalar_one()
        build_id, request_id, bsid = connection.execute(
            text(
                "SELECT b.id, br.id, br.buildsetid FROM builds b "
                "JOIN buildrequests br ON br.id = b.brid "
                "JOIN buildsets bs ON bs.id = br.buildsetid "
                "JOIN sourcestamps ss ON ss.id = bs.sourcestampid "
                "WHERE ss.branch = :branch AND ss.revision = :rev ORDER BY b.id LIMIT 1"
            ),
            {"branch": repo_path, "rev": revision},
        ).one()
    return Targets(
        day.isoformat(),
        int(start.timestamp()),
        int(end.timestamp()),
        revision,
        build_id,
        request_id,
        bsid,
    )


def subjects(client: TestClient, databases: Databases, t: Targets, repo_path: str) -> list[Subject]:
    sched, status, own = databases.schedulerdb, databases.statusdb, databases.buildapi_db
    branch = {"branch": repo_path}
    rev = {"branch": repo_path, "rev": t.revision}
    in_branch = "AND ss.branch = :branch "

    def revision_floor() -> int:
        return fetch(
            sched,
            (BUILD_SELECT + "WHERE ss.branch = :branch AND ss.revision = :rev", rev),
            (
                REQUEST_SELECT + "WHERE ss.branch = :branch AND ss.revision = :rev "
                "AND br.claimed_at = 0 AND br.complete = 0",
                rev,
            ),
        )

    day = {"branch": repo_path, "start": t.day_start, "end": t.day_end}
    base = f"/self-serve/{BRANCH}"

    def dump(start: float, end: float) -> Callable[[int, bool], int]:
        def call(_: int, counting: bool) -> int:
            document = b"".join(builds_document(databases, start, end))
            return len(json.loads(document)["builds"]) if counting else 0

        return call

    def dump_floor(start: float, end: float) -> Callable[[], int]:
        window = {"start": naive_utc(start), "end": naive_utc(end)}
        return lambda: fetch(status, (DUMP_FLOOR, window), *((sql, window) for sql in DUMP_NAMES))

    return [
        Subject(  # no SQL: what serving any request costs
            f"{NO_SQL} (no SQL)",
            http(client, NO_SQL, len),
            lambda: 0,
            sql=False,
        ),
        Subject(
            "/pending",
            http(client, "/pending", lambda d: nested(d, "pending")),
            lambda: fetch(sched, (PENDING_ROWS + "ORDER BY br.id", {})),
        ),
        Subject(
            "/running",
            http(client, "/running", lambda d: nested(d, "running")),
            lambda: fetch(sched, (RUNNING_ROWS + "ORDER BY br.id", {})),
        ),
        Subject(
            f"/pending/{BRANCH}",
            http(client, f"/pending/{BRANCH}", lambda d: nested(d, "pending")),
            lambda: fetch(sched, (PENDING_ROWS + in_branch + "ORDER BY br.id", branch)),
        ),
        Subject(
            f"{base}?date=<day>",
            http(client, f"{base}?date={t.day}", len),
            lambda: fetch(
                sched,
                (
                    BUILD_SELECT + "WHERE ss.branch = :branch AND b.start_time >= :start "
                    "AND b.start_time < :end ORDER BY b.id DESC",
                    day,
                ),
                (
                    REQUEST_SELECT + "WHERE ss.branch = :branch AND br.submitted_at >= :start "
                    "AND br.submitted_at < :end AND br.claimed_at = 0 AND br.complete = 0",
                    day,
                ),
            ),
        ),
        Subject(f"{base}/rev/<rev>", http(client, f"{base}/rev/{t.revision}", len), revision_floor),
        Subject(
            f"{base}/rev/<rev>/is_done",
            http(client, f"{base}/rev/{t.revision}/is_done", lambda d: 1),
            revision_floor,
        ),
        Subject(
            f"{base}/build/<id>",
            http(client, f"{base}/build/{t.build_id}", lambda d: 1),
            lambda: fetch(
                sched,
                (BUILD_SELECT + "WHERE b.id = :id " + in_branch, {"id": t.build_id, **branch}),
                (PROPERTIES, {"bsid": t.bsid}),
            ),
        ),
        Subject(
            f"{base}/request/<id>",
            http(client, f"{base}/request/{t.request_id}", lambda d: 1),
            lambda: fetch(
                sched,
                (REQUEST_SELECT + "WHERE br.id = :id " + in_branch, {"id": t.request_id, **branch}),
                (PROPERTIES, {"bsid": t.bsid}),
                ("SELECT id FROM builds WHERE brid = :id ORDER BY id", {"id": t.request_id}),
            ),
        ),
        Subject(
            f"/revision/{BRANCH}/<rev>",
            http(client, f"/revision/{BRANCH}/{t.revision}", lambda d: len(d["all"])),
            lambda: fetch(
                sched,
                (REVISION_ROWS, rev),
                (PENDING_ROWS + in_branch + "ORDER BY br.id", branch),
            ),
        ),
        Subject("/recent", http(client, "/recent", len), lambda: fetch(status, (RECENT, {}))),
        Subject(
            "/pushes?fromtime=<last day>",
            http(client, f"/pushes?fromtime={int(END) - DAY}", lambda d: d["TOTAL"]),
            lambda: fetch(sched, (PUSHES, {"start": int(END) - DAY})),
        ),
        Subject(
            "/self-serve/jobs",
            http(client, "/self-serve/jobs", len),
            lambda: fetch(own, (JOBS, {})),
        ),
        Subject(
            "builds_document (4 h)",
            dump(END - 4 * HOUR, END),
            dump_floor(END - 4 * HOUR, END),
            http=False,
        ),
        Subject(
            "builds_document (24 h)",
            dump(END - DAY, END),
            dump_floor(END - DAY, END),
            http=False,
        ),
    ]


# -- timing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    name: str
    items: int
    rows: int
    endpoint_ms: float
    floor_ms: float
    sql: bool
    http: bool

    @property
    def ratio(self) -> float:
        return self.endpoint_ms / self.floor_ms if self.floor_ms else float("inf")


def measure(subject: Subject, runs: int, counter: list[int]) -> Result:
    counter[0] += 1
    items = subject.call(counter[0], True)  # warm-up: pool, statement caches, page cache
    rows = subject.floor()
    endpoint, floor = [], []
    for _ in range(runs):  # interleaved, so both see the same machine load
        counter[0] += 1
        began = time.perf_counter()
        subject.call(counter[0], False)
        endpoint.append(time.perf_counter() - began)
        began = time.perf_counter()
        subject.floor()
        floor.append(time.perf_counter() - began)
    return Result(
        subject.name,
        items,
        rows,
        statistics.median(endpoint) * 1000,
        statistics.median(floor) * 1000,
        subject.sql,
        subject.http,
    )


def peak_memory(databases: Databases, hours: int) -> tuple[int, float]:
    """Builds of the last `hours` before `end`, and the peak MiB traced while the whole
    builds document is produced and thrown away chunk by chunk."""
    tracemalloc.start()
    try:
        size = builds = 0
        for chunk in builds_document(databases, END - hours * HOUR, END):
            size += len(chunk)
            builds += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return builds - 4, peak / 2**20  # chunks: one per build, plus four framing chunks


def table(results: list[Result], trip: float | None = None) -> str:
    """Each endpoint against its floor. With `trip` (the no-SQL round trip measured in the same
    run) each ratio comes twice: as measured, and with that trip taken off the endpoint time,
    since that cost does not depend on the query."""
    trip_columns = trip is not None
    head = "| endpoint | items | SQL rows (floor) | endpoint ms | floor ms | ratio |"
    rule = "|---|---:|---:|---:|---:|---:|"
    if trip_columns:
        head += " endpoint less round trip ms | ratio less round trip |"
        rule += "---:|---:|"
    lines = [head, rule]
    for r in results:
        cells = ["-", "-"] if not r.sql else [f"{r.floor_ms:.1f}", f"{r.ratio:.1f}"]
        if trip is not None:
            net = r.endpoint_ms - trip
            cells += [f"{net:.1f}", f"{net / r.floor_ms:.1f}"] if r.sql and r.http else ["-", "-"]
        lines.append(
            f"| `{r.name}` | {r.items} | {r.rows} | {r.endpoint_ms:.1f} | {' | '.join(cells)} |"
        )
    return "\n".join(lines)


def app_only_ms(app: ASGIApp, path: str, runs: int) -> float:
    """Median ms of `path` (format=json) called straight on the ASGI app, with no test client
    around it: the share of the round trip that the app itself spends."""

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def once(n: int) -> float:
        sent: list[Message] = []

        async def send(message: Message) -> None:
            sent.append(message)

        scope: Scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": f"format=json&_n=app{n}".encode(),
            "headers": [(b"host", b"testserver")],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
            "state": {},
        }
        began = time.perf_counter()
        await app(scope, receive, send)
        elapsed = time.perf_counter() - began
        if sent[0].get("status") != 200:
            raise SystemExit(f"{path}: {sent[0]}")
        return elapsed

    async def timed() -> list[float]:
        for n in range(WARM_UP):  # this event loop starts its own worker threads
            await once(-n)
        return [await once(n) for n in range(1, runs + 1)]

    return statistics.median(asyncio.run(timed())) * 1000


def main() -> None:
    args = parse_args()
    in_data_dir(args.data_dir, "reads-", lambda base: run(args, base))


def run(args: argparse.Namespace, base: Path) -> None:
    began = time.perf_counter()
    settings, databases, layout, info = dataset(args, base)
    print(f"dataset ready in {time.perf_counter() - began:.0f} s: {json.dumps(info)}", flush=True)
    if args.generate_only:
        return
    repo_path = layout.branches[BRANCH].repo_path
    targets = pick_targets(settings, databases, repo_path)
    print(f"targets: {targets}", flush=True)
    results = []
    counter = [0]
    app = create_app(settings, databases, layout)
    with TestClient(app) as client:
        for subject in subjects(client, databases, targets, repo_path):
            result = measure(subject, args.runs, counter)
            print(
                f"{result.name}: {result.items} items, {result.rows} rows, "
                f"{result.endpoint_ms:.1f} ms vs {result.floor_ms:.1f} ms",
                flush=True,
            )
            results.append(result)
        app_ms = app_only_ms(app, NO_SQL, 10 * args.runs)
    trip = next(r.endpoint_ms for r in results if not r.sql)
    memory = [(hours, *peak_memory(databases, hours)) for hours in (4, 24)]
    backend = databases.schedulerdb.dialect.name
    lines = [
        f"backend: {backend}; {info['requests']} requests, {info['pending']} pending, "
        f"{info['running']} running, {info['status_builds_total']} statusdb builds; "
        f"median of {args.runs} runs",
        "",
        f"No-SQL round trip: {trip:.1f} ms through the test client, "
        f"{app_ms:.1f} ms in the app alone (`{NO_SQL}` called on the ASGI app directly, "
        f"median of {10 * args.runs}).",
        "",
        table(results, trip),
        "",
        "| builds_document window | builds | peak traced memory |",
        "|---|---:|---:|",
        *(f"| {hours} h | {builds} | {peak:.1f} MiB |" for hours, builds, peak in memory),
    ]
    markdown = "\n".join(lines)
    print(markdown)
    if args.output:
        Path(args.output).write_text(markdown + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
