"""How fast the reports answer on a long history, against their floor: the bare SQL that reads
the same rows, executed and fully fetched, in the same run.

    .venv/bin/python bench/reports.py --data-dir reads-1m
    .venv/bin/python bench/reports.py --smoke

The dataset is the one bench/read_endpoints.py writes (its `dataset.json` marker is required);
`--smoke` writes a tiny one instead. Wait times of one pool over the last full day and the last
7 days before the dataset's end; end-to-end times of a busy branch over 7 days and slaves over
1 day, when the app has those routes. Every timed call carries a unique dummy query parameter,
so the response cache never answers.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import threading
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from datadir import in_data_dir
from read_endpoints import BRANCH, MARKER, Result, Subject, dataset, fetch, http, measure
from read_endpoints import table as results_table
from sqlalchemy import Engine
from starlette.testclient import TestClient

from buildapi.config import Settings
from buildapi.db.engines import Databases
from buildapi.db.queries.status_builds import naive_utc
from buildapi.db.queries.waittimes import (
    DONTBUILD,
    EXCLUDED_BUILDERS,
    EXCLUDED_REASONS,
    wait_rows,
)
from buildapi.layout import FarmLayout
from buildapi.reports.waittimes import pool_filter
from buildapi.web.app import create_app

APP_CODE = "buildapi/"  # frames of the app, as `profile` names them
SERVING = "buildapi/web/"  # a thread serving a request has one of these frames
POOL = "testpool"  # the busiest pool of the example layout
ENDTOEND = "/reports/endtoend/{branch}"
SLAVES = "/reports/slaves"
# --smoke: a tiny history, written in a few seconds
SMOKE = {"days": 2.0, "jobs_per_day": 2000, "slave_factor": 1, "pending": 100, "running": 50}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data-dir",
        help="the databases and dataset.json of bench/read_endpoints.py (reused, never "
        "rewritten); with --smoke, where to write the tiny dataset (default: a temporary dir)",
    )
    parser.add_argument("--schedulerdb-url", help="a server database instead of SQLite")
    parser.add_argument("--statusdb-url", help="a server database instead of SQLite")
    parser.add_argument("--buildapi-db-url", help="a server database instead of SQLite")
    parser.add_argument("--pool", default=POOL, help=f"wait-time pool (default {POOL})")
    parser.add_argument("--branch", default=BRANCH, help=f"end-to-end branch (default {BRANCH})")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per report (median)")
    parser.add_argument("--smoke", action="store_true", help="a tiny dataset, 2 runs, < 1 min")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also sample where one call of each report spends its time",
    )
    parser.add_argument("--output", help="also write the Markdown tables to this file")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if not args.smoke and not args.data_dir:
        parser.error("--data-dir (a dataset of bench/read_endpoints.py) or --smoke is required")
    if args.smoke:
        args.runs = min(args.runs, 2)
    return args


def open_dataset(
    args: argparse.Namespace, base: Path
) -> tuple[Settings, Databases, FarmLayout, dict[str, Any]]:
    """read_endpoints.py's dataset in `base`, with the shape its marker records; or, for
    --smoke, a tiny one written there."""
    marker = base / MARKER
    if marker.exists():
        shape = json.loads(marker.read_text(encoding="utf-8"))
        shape = {key: shape[key] for key in ("days", "jobs_per_day", "seed", "slave_factor")}
    elif args.smoke:
        shape = {"seed": 1, **SMOKE}
    else:
        raise SystemExit(f"no {MARKER} in {base}: run bench/read_endpoints.py --generate-only")
    options = {"pending": 0, "running": 0, "jobs": 0, **vars(args), **shape}
    return dataset(argparse.Namespace(**options), base)


# -- the windows ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    label: str
    start: int
    end: int

    @property
    def query(self) -> str:
        return f"starttime={self.start}&endtime={self.end}"


def spans(settings: Settings, end: float) -> tuple[Span, Span]:
    """The last full day before `end` (report time zone), and the 7 full days ending with it."""
    zone = settings.zone
    midnight = datetime.datetime.combine(
        datetime.datetime.fromtimestamp(end, zone).date(), datetime.time(), zone
    )
    stop = int(midnight.timestamp())
    day = int((midnight - datetime.timedelta(days=1)).timestamp())
    week = int((midnight - datetime.timedelta(days=7)).timestamp())
    return Span("1 day", day, stop), Span("7 days", week, stop)


# -- the floors -------------------------------------------------------------------------------


def in_list(prefix: str, values: Iterable[str]) -> tuple[str, dict[str, str]]:
    """`(:p0, :p1, ...)` and its parameters, for a hand-written IN."""
    params = {f"{prefix}{n}": value for n, value in enumerate(values)}
    return "(" + ", ".join(f":{name}" for name in params) + ")", params


def waittimes_floor(layout: FarmLayout, pool: str) -> tuple[str, dict[str, Any]]:
    """One row per request of the pool whose buildset was submitted in the window, with its
    builder, submission time, push time and first build start; the report's exclusions."""
    chosen = pool_filter(layout, pool)
    masters, master_params = in_list("m", chosen.master_db_names)
    names, builder_params = in_list("b", chosen.builders or ["-"])
    not_builders = " ".join(
        f"AND br.buildername NOT LIKE :xb{n} " for n in range(len(EXCLUDED_BUILDERS))
    )
    not_reasons = " AND ".join(f"bs.reason NOT LIKE :xr{n}" for n in range(len(EXCLUDED_REASONS)))
    sql = (
        "SELECT br.buildername, br.submitted_at, "
        "(SELECT min(c.when_timestamp) FROM sourcestamp_changes sc "
        "JOIN changes c ON c.changeid = sc.changeid WHERE sc.sourcestampid = bs.sourcestampid), "
        "(SELECT min(b.start_time) FROM builds b WHERE b.brid = br.id) "
        # CROSS JOIN: the window's buildsets first, as the report's plan does; given a free
        # hand, SQLite reads every request of the pool's masters through the IN instead.
        "FROM buildsets bs CROSS JOIN buildrequests br "
        "WHERE br.buildsetid = bs.id AND bs.submitted_at >= :start AND bs.submitted_at < :end "
        f"AND (br.claimed_by_name IN {masters} OR (br.claimed_by_name IS NULL "
        f"AND br.complete = 0 AND br.buildername IN {names})) "
        "AND NOT EXISTS (SELECT 1 FROM sourcestamp_changes sc "
        "JOIN changes c ON c.changeid = sc.changeid "
        "WHERE sc.sourcestampid = bs.sourcestampid AND c.comments LIKE :dontbuild) "
        f"{not_builders}AND (bs.reason IS NULL OR ({not_reasons}))"
    )
    params: dict[str, Any] = {**master_params, **builder_params, "dontbuild": DONTBUILD}
    params.update({f"xb{n}": pattern for n, pattern in enumerate(EXCLUDED_BUILDERS)})
    params.update({f"xr{n}": pattern for n, pattern in enumerate(EXCLUDED_REASONS)})
    return sql, params


# End to end: every (request, build, change) row of the branch pushed or submitted in the
# window, in request order, and the branch's changes no sourcestamp carries yet.
ENDTOEND_ROWS = (
    "SELECT br.id, b.id, b.number, b.start_time, b.finish_time, br.buildsetid, br.buildername, "
    "br.claimed_at, br.claimed_by_name, br.complete, br.complete_at, br.results, "
    "br.submitted_at, bs.reason, c.changeid, c.author, c.comments, c.category, c.project, "
    "c.repository, c.revision, c.revlink, c.when_timestamp, ss.branch, ss.revision, ss.id "
    "FROM buildrequests br JOIN buildsets bs ON bs.id = br.buildsetid "
    "JOIN sourcestamps ss ON ss.id = bs.sourcestampid "
    "LEFT JOIN builds b ON b.brid = br.id "
    "LEFT JOIN sourcestamp_changes sc ON sc.sourcestampid = ss.id "
    "LEFT JOIN changes c ON c.changeid = sc.changeid "
    "WHERE ss.branch = :branch "
    "AND (c.when_timestamp >= :start OR br.submitted_at >= :start) "
    "AND (c.when_timestamp < :end OR br.submitted_at < :end) "
    "ORDER BY br.id, b.id, c.changeid"
)
ENDTOEND_PENDING = (
    "SELECT c.changeid, c.revision, c.branch, c.author, c.when_timestamp FROM changes c "
    "WHERE c.branch = :branch AND c.when_timestamp >= :start AND c.when_timestamp < :end "
    "AND NOT EXISTS (SELECT 1 FROM sourcestamp_changes sc WHERE sc.changeid = c.changeid) "
    "ORDER BY c.when_timestamp, c.changeid"
)
# Slaves: every build started in the window with its slave and builder names, by slave.
SLAVES_ROWS = (
    "SELECT b.slave_id, s.name, b.builder_id, bu.name, b.starttime, b.endtime, b.result "
    "FROM builds b JOIN slaves s ON s.id = b.slave_id JOIN builders bu ON bu.id = b.builder_id "
    "WHERE b.starttime >= :start AND b.starttime <= :end "
    "ORDER BY b.slave_id, b.starttime, b.id"
)


# -- the subjects -----------------------------------------------------------------------------


def report_paths(client: TestClient) -> set[str]:
    response = client.get("/openapi.json")
    response.raise_for_status()
    return set(response.json()["paths"])


def waittimes_subject(
    client: TestClient, sched: Engine, layout: FarmLayout, pool: str, span: Span
) -> Subject:
    sql, params = waittimes_floor(layout, pool)
    window = {**params, "start": span.start, "end": span.end}
    return Subject(
        f"/reports/waittimes/{pool} ({span.label})",
        http(
            client,
            f"/reports/waittimes/{pool}?{span.query}",
            lambda d: d["total"] + len(d["pending"]),
        ),
        lambda: fetch(sched, (sql, window)),
    )


def subjects(
    client: TestClient,
    databases: Databases,
    layout: FarmLayout,
    args: argparse.Namespace,
    day: Span,
    week: Span,
) -> tuple[list[Subject], list[str]]:
    """The reports to time, and the ones the app does not serve yet."""
    sched, status = databases.schedulerdb, databases.statusdb
    paths = report_paths(client)
    chosen = [
        waittimes_subject(client, sched, layout, args.pool, day),
        waittimes_subject(client, sched, layout, args.pool, week),
    ]
    missing = []
    if ENDTOEND in paths:
        repo_path = layout.branches[args.branch].repo_path
        rows = {"branch": repo_path, "start": week.start, "end": week.end}
        chosen.append(
            Subject(
                f"/reports/endtoend/{args.branch} ({week.label})",
                http(
                    client,
                    f"/reports/endtoend/{args.branch}?{week.query}",
                    lambda d: d["total_build_requests"],
                ),
                lambda: fetch(sched, (ENDTOEND_ROWS, rows), (ENDTOEND_PENDING, rows)),
            )
        )
    else:
        missing.append(ENDTOEND)
    if SLAVES in paths:
        window = {"start": naive_utc(day.start), "end": naive_utc(day.end)}
        chosen.append(
            Subject(
                f"{SLAVES} ({day.label})",
                http(
                    client, f"{SLAVES}?{day.query}", lambda d: sum(s["total"] for s in d["slaves"])
                ),
                lambda: fetch(status, (SLAVES_ROWS, window)),
            )
        )
    else:
        missing.append(SLAVES)
    return chosen, missing


def check_rows(databases: Databases, layout: FarmLayout, pool: str, span: Span) -> tuple[int, int]:
    """Rows the wait-time report's own query yields, and rows its floor fetches: equal, or the
    floor does not read what the report reads."""
    chosen = pool_filter(layout, pool)
    with databases.schedulerdb.connect() as connection:
        report = sum(1 for _ in wait_rows(connection, span.start, span.end, chosen))
    sql, params = waittimes_floor(layout, pool)
    return report, fetch(
        databases.schedulerdb, (sql, {**params, "start": span.start, "end": span.end})
    )


# -- measuring --------------------------------------------------------------------------------


def peak_mib(call: Callable[[int, bool], int], n: int) -> float:
    """Peak traced MiB of one call, response included: a whole table loaded would show."""
    tracemalloc.start()
    try:
        call(n, False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


def profile(call: Callable[[int, bool], int], n: int, lines: int = 12) -> str:
    """Where one call spends its time, by sampling every thread's stack (the app runs in the
    test client's threads, which cProfile would not see), for threads serving the request: the
    share of time each function was running in (cumulative) and on top of the stack (own).
    A sample weighs the time since the previous one: the sampler gets the GIL at once while
    SQLite runs, but only every switch interval while Python code runs."""
    caller = threading.get_ident()
    own: Counter[str] = Counter()  # seconds
    inside: Counter[str] = Counter()
    samples = [0]
    weights = [0.0]
    done = threading.Event()

    def where(code: Any) -> str:
        name = code.co_filename
        for marker in ("/site-packages/", "/src/", "/lib/python3"):
            name = name.split(marker)[-1]
        return f"{name}:{code.co_firstlineno} {code.co_name}"

    def sampler() -> None:
        me = threading.get_ident()
        last = time.perf_counter()
        while not done.is_set():
            now = time.perf_counter()
            weight, last = now - last, now
            for ident, frame in sys._current_frames().items():
                if ident in (me, caller):
                    continue
                stack = []
                current: FrameType | None = frame
                while current is not None:
                    stack.append(where(current.f_code))
                    current = current.f_back
                if not any(place.startswith(SERVING) for place in stack):
                    continue  # idle, the event loop waiting, or a background thread
                samples[0] += 1
                weights[0] += weight
                own[stack[0]] += weight
                for place in set(stack):
                    inside[place] += weight
            time.sleep(0.001)

    thread = threading.Thread(target=sampler, daemon=True)
    thread.start()
    try:
        call(n, False)
    finally:
        done.set()
        thread.join()
    total = weights[0] or 1.0
    ours = [(place, k) for place, k in inside.most_common() if place.startswith(APP_CODE)]
    lines_out = [f"{samples[0]} samples; cumulative, app code:"]
    lines_out += [f"  {100 * k / total:5.1f}%  {place}" for place, k in ours[:lines]]
    lines_out.append("own time, any code:")
    lines_out += [f"  {100 * k / total:5.1f}%  {place}" for place, k in own.most_common(lines)]
    return "\n".join(lines_out)


def main() -> None:
    args = parse_args()
    in_data_dir(args.data_dir, "reports-", lambda base: run(args, base))


def run(args: argparse.Namespace, base: Path) -> None:
    began = time.perf_counter()
    settings, databases, layout, info = open_dataset(args, base)
    print(f"dataset ready in {time.perf_counter() - began:.0f} s: {json.dumps(info)}", flush=True)
    day, week = spans(settings, info["end"])
    print(f"windows: {day} {week}", flush=True)
    report_rows, floor_rows = check_rows(databases, layout, args.pool, day)
    print(
        f"wait-time rows, {day.label}: report query {report_rows}, floor {floor_rows}", flush=True
    )
    if report_rows != floor_rows:
        raise SystemExit("the wait-time floor does not read the report's rows")
    results: list[Result] = []
    memory: list[tuple[str, float]] = []
    counter = [0]
    with TestClient(create_app(settings, databases, layout)) as client:
        chosen, missing = subjects(client, databases, layout, args, day, week)
        for subject in chosen:
            result = measure(subject, args.runs, counter)
            print(
                f"{result.name}: {result.items} items, {result.rows} rows, "
                f"{result.endpoint_ms:.1f} ms vs {result.floor_ms:.1f} ms ({result.ratio:.1f}x)",
                flush=True,
            )
            results.append(result)
            counter[0] += 1
            memory.append((subject.name, peak_mib(subject.call, counter[0])))
            if args.profile:
                counter[0] += 1
                print(profile(subject.call, counter[0]), flush=True)
    backend = databases.schedulerdb.dialect.name
    lines = [
        f"backend: {backend}; {info['requests']} requests, {info['status_builds_total']} "
        f"statusdb builds; windows {day.label} [{day.start}, {day.end}), {week.label} "
        f"[{week.start}, {week.end}); median of {args.runs} runs",
        "",
        results_table(results),
        "",
        "| report | peak traced memory |",
        "|---|---:|",
        *(f"| `{name}` | {peak:.1f} MiB |" for name, peak in memory),
    ]
    if missing:
        lines += ["", f"not served by the app yet, so not timed: {', '.join(missing)}"]
    markdown = "\n".join(lines)
    print(markdown)
    if args.output:
        Path(args.output).write_text(markdown + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
