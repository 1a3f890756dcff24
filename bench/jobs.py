"""Job requests through the pipeline: accepted per second by one web worker, against the floor
of a bare INSERT (all a request waits for: the relay publishes after the answer); completed per
second end to end through RabbitMQ with one and with two agents.

    .venv/bin/python bench/jobs.py --requests 2000 --clients 8 --jobs 1000
    .venv/bin/python bench/jobs.py --database postgresql   # $TEST_POSTGRESQL_URL's server

The farm is the pipeline tests' seeded farm (two busy farm hours, its clock then stands
still) on --database (SQLite in --data-dir, or scratch databases on the server that
$TEST_POSTGRESQL_URL or $TEST_MYSQL_URL names). `buildapi web` (one uvicorn worker) and
`buildapi agent` run as child processes on the farm's databases and the broker; every request
is a rebuild_request (count 1) of one of the 100 newest mozilla-inbound requests, sent with a
Bearer token by --clients keep-alive threads.
Each phase gets an exchange and queues of its own, deleted afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from datadir import in_data_dir
from kombu import Connection as BrokerConnection
from sqlalchemy import func, insert, select

from buildapi.config import Settings, load_settings
from buildapi.db.engines import Databases
from buildapi.db.queries.live import BranchFilter, pending_rows
from buildapi.db.schema.buildapi import jobrequests
from buildapi.db.schema.scheduler import buildrequests, buildsets, sourcestamps
from buildapi.db.setup import init_databases
from buildapi.selfserve.broker import Broker

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # the tests package: its farm, process and token helpers

from tests.conftest import broker_names  # noqa: E402
from tests.databases import ENGINES, database_urls, scratch_database  # noqa: E402
from tests.pipeline.conftest import USER, Farmed, seeded_farm, settings_env  # noqa: E402
from tests.processes import free_port, running  # noqa: E402
from tests.services import service_url  # noqa: E402
from tests.tokens import make_token  # noqa: E402

BRANCH = "mozilla-inbound"
FARM_HOURS = 2  # what seeded_farm writes
DEFAULT_BROKER = "amqp://guest:guest@127.0.0.1:5672//"
POLL_SECONDS = 0.05
TARGETS = 100  # requests rebuilt in turn


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--requests", type=int, default=2000, help="requests timed for accepted/s (default 2000)"
    )
    parser.add_argument(
        "--clients", type=int, default=8, help="concurrent client threads (default 8)"
    )
    parser.add_argument(
        "--jobs", type=int, default=1000, help="jobs enqueued for each end-to-end run"
    )
    parser.add_argument(
        "--agents",
        type=int,
        nargs="+",
        default=[1, 2],
        help="agent counts of the end-to-end runs (default 1 2)",
    )
    parser.add_argument(
        "--broker-url",
        default=os.environ.get("TEST_AMQP_URL", DEFAULT_BROKER),
        help=f"AMQP broker (default $TEST_AMQP_URL or {DEFAULT_BROKER})",
    )
    parser.add_argument(
        "--data-dir", help="SQLite databases (default: a temporary dir, removed afterwards)"
    )
    parser.add_argument(
        "--database",
        choices=ENGINES,
        default="sqlite",
        help="engine of the three databases (default sqlite)",
    )
    parser.add_argument("--smoke", action="store_true", help="20 requests and 20 jobs: a check")
    parser.add_argument("--output", help="also write the Markdown tables to this file")
    args = parser.parse_args()
    if args.smoke:
        args.requests = args.jobs = 20
    return args


# -- sending requests through the web ---------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    job_ids: list[int]
    latencies: list[float]  # seconds, one per request
    seconds: float  # first request sent to last answer received

    @property
    def rate(self) -> float:
        return len(self.job_ids) / self.seconds

    def percentile_ms(self, p: int) -> float:
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[p - 1] * 1000


def send(base_url: str, token: str, targets: list[int], count: int, clients: int) -> Sent:
    """`count` rebuild_request calls over `clients` threads, each on a keep-alive connection."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    job_ids: list[int] = []
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)

    def client(first: int) -> None:
        with httpx.Client(base_url=base_url, headers=headers, timeout=60.0) as http:
            http.get(f"/self-serve/{BRANCH}/builders").raise_for_status()  # opens the connection
            start.wait()
            for n in range(first, count, clients):
                began = time.perf_counter()
                response = http.post(
                    f"/self-serve/{BRANCH}/request",
                    json={"request_id": targets[n % len(targets)], "priority": n % 100},
                )
                took = time.perf_counter() - began
                with lock:
                    if response.status_code != 202:
                        failures.append(f"{response.status_code} {response.text[:200]}")
                        continue
                    job_ids.append(response.json()["request_id"])
                    latencies.append(took)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    if failures:
        raise SystemExit(f"{len(failures)} requests failed, first: {failures[0]}")
    return Sent(sorted(job_ids), latencies, seconds)


@contextlib.contextmanager
def own_queues(settings: Settings) -> Iterator[Settings]:
    """The settings with an exchange and queues of their own, deleted on the way out."""
    settings = settings.model_copy(update=broker_names())
    try:
        yield settings
    finally:
        broker = Broker(settings)
        with BrokerConnection(settings.broker_url) as connection:
            channel = connection.default_channel
            for queue in broker.queues.values():
                queue(channel).delete()
            broker.exchange(channel).delete()


def child_env(settings: Settings, port: int) -> dict[str, str]:
    return {**settings_env(settings), "BUILDAPI_PORT": str(port)}


@contextlib.contextmanager
def web(settings: Settings) -> Iterator[str]:
    """`buildapi web` (one uvicorn worker) on a free port; yields its base URL."""
    port = free_port()
    with running(["web"], env=child_env(settings, port)):
        yield f"http://127.0.0.1:{port}"


# -- the floor: the same rows inserted ---------------------------------------------------------


def floor(farmed: Farmed, job_ids: list[int], base: Path, engine: str) -> float:
    """Seconds to insert the accepted job rows again into a fresh database of the same engine,
    one commit each, as the web records them."""
    with farmed.databases.buildapi_db.connect() as connection:
        rows = connection.execute(
            select(jobrequests).where(jobrequests.c.id.between(job_ids[0], job_ids[-1]))
        ).all()
    with fresh_buildapi_db(engine, base / "floor") as url:
        fresh = Databases.from_settings(load_settings(data_dir=base / "floor", buildapi_db_url=url))
        init_databases(fresh)
        columns = ("action", "who", "when", "what", "branch", "idempotency_key", "weight")
        try:
            began = time.perf_counter()
            with fresh.buildapi_db.connect() as connection:
                for row in rows:
                    with connection.begin():
                        values = {name: getattr(row, name) for name in columns}
                        connection.execute(
                            insert(jobrequests), {**values, "state": "recorded", "attempts": 0}
                        )
            return time.perf_counter() - began
        finally:
            fresh.dispose()


@contextlib.contextmanager
def fresh_buildapi_db(engine: str, directory: Path) -> Iterator[str]:
    if engine == "sqlite":
        directory.mkdir(parents=True, exist_ok=True)
        yield f"sqlite:///{directory / 'buildapi_db.sqlite'}"
        return
    with scratch_database(service_url(engine)) as url:
        yield url


# -- end to end -------------------------------------------------------------------------------


@dataclass(frozen=True)
class EndToEnd:
    agents: int
    jobs: int
    done_before: int  # completed while the agents were still starting
    seconds: float  # all agents ready -> every job completed
    enqueue_rate: float

    @property
    def rate(self) -> float | None:
        """None when the first agent did all the work before the others were ready."""
        left = self.jobs - self.done_before
        return left / self.seconds if left else None


def completed(farmed: Farmed, job_ids: list[int]) -> int:
    query = (
        select(func.count())
        .select_from(jobrequests)
        .where(
            jobrequests.c.id.between(job_ids[0], job_ids[-1]),
            jobrequests.c.completed_at.is_not(None),
        )
    )
    with farmed.databases.buildapi_db.connect() as connection:
        return int(connection.execute(query).scalar_one())


def start_together(stack: contextlib.ExitStack, agents: int, env: dict[str, str]) -> None:
    """Start the agents at once (one thread each waits for its ready line), so the first does
    not drain the queue while the next one is still importing; `stack` stops them."""
    stacks = [stack.enter_context(contextlib.ExitStack()) for _ in range(agents)]
    errors: list[BaseException] = []

    def start(own: contextlib.ExitStack) -> None:
        try:
            own.enter_context(running(["agent"], env=env, ready="agent consuming"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(own,)) for own in stacks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def end_to_end(
    farmed: Farmed, token: str, targets: list[int], args: argparse.Namespace, agents: int
) -> EndToEnd:
    """Enqueue the jobs with no agent running, then start the agents and time until the web
    has stored every answer, counted from the moment all agents are consuming."""
    with own_queues(farmed.settings) as settings, web(settings) as url:
        sent = send(url, token, targets, args.jobs, args.clients)
        env = child_env(settings, free_port())
        with contextlib.ExitStack() as stack:
            start_together(stack, agents, env)
            began = time.perf_counter()
            before = done = completed(farmed, sent.job_ids)
            while done < len(sent.job_ids):
                time.sleep(POLL_SECONDS)
                done = completed(farmed, sent.job_ids)
            seconds = time.perf_counter() - began
    return EndToEnd(agents, len(sent.job_ids), before, seconds, sent.rate)


# -- the run ----------------------------------------------------------------------------------


def dataset(farmed: Farmed) -> tuple[list[int], dict[str, int]]:
    """The newest mozilla-inbound requests, to rebuild in turn, and the farm's size."""
    branch = BranchFilter(BRANCH, farmed.layout.branches[BRANCH].repo_path)
    newest = (
        select(buildrequests.c.id)
        .join(buildsets, buildsets.c.id == buildrequests.c.buildsetid)
        .join(sourcestamps, sourcestamps.c.id == buildsets.c.sourcestampid)
        .where(branch.clause(sourcestamps.c.branch))
        .order_by(buildrequests.c.id.desc())
        .limit(TARGETS)
    )
    with farmed.databases.schedulerdb.connect() as connection:
        targets = list(connection.execute(newest).scalars())
        pending = len(pending_rows(connection))
    with farmed.databases.buildapi_db.connect() as connection:
        jobs = connection.execute(select(func.count()).select_from(jobrequests)).scalar_one()
    return targets, {
        "requests": farmed.count(buildrequests),
        "pending": pending,
        "targets": len(targets),
        "jobrequests": int(jobs),
    }


def tables(
    args: argparse.Namespace, sent: Sent, insert_seconds: float, runs: list[EndToEnd]
) -> str:
    n = len(sent.job_ids)
    lines = [
        "| accepted | requests | seconds | per second | p50 ms | p95 ms | p99 ms | web / floor |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        f"| web, 1 uvicorn worker, {args.clients} clients | {n} | {sent.seconds:.2f} "
        f"| {sent.rate:.0f} | {sent.percentile_ms(50):.1f} | {sent.percentile_ms(95):.1f} "
        f"| {sent.percentile_ms(99):.1f} | {sent.seconds / insert_seconds:.1f} |",
        f"| floor: INSERT, one commit each | {n} | {insert_seconds:.2f} "
        f"| {n / insert_seconds:.0f} | | | | |",
        "",
        "| end to end | jobs | enqueued/s | done before all agents ready | seconds | jobs/s "
        "| speed-up |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        rate = speedup = "-"
        if run.rate is not None:
            rate = f"{run.rate:.0f}"
            if runs[0].rate is not None:
                speedup = f"{run.rate / runs[0].rate:.2f}"
        lines.append(
            f"| {run.agents} agent{'s' if run.agents > 1 else ''} | {run.jobs} "
            f"| {run.enqueue_rate:.0f} | {run.done_before} | {run.seconds:.2f} "
            f"| {rate} | {speedup} |"
        )
    return "\n".join(lines)


def run(args: argparse.Namespace, base: Path) -> None:
    began = time.perf_counter()
    with (
        database_urls(args.database, base) as urls,
        seeded_farm(
            base / "farm",
            broker_url=args.broker_url,
            write_rate_per_minute=10**9,
            **{f"{name}_url": url for name, url in urls.items()},
        ) as farmed,
    ):
        targets, size = dataset(farmed)
        print(f"farm ready in {time.perf_counter() - began:.0f} s: {size}", flush=True)
        token = make_token(farmed.databases, USER)
        with own_queues(farmed.settings) as settings, web(settings) as url:
            sent = send(url, token, targets, args.requests, args.clients)
        print(f"accepted: {sent.rate:.0f}/s", flush=True)
        insert_seconds = floor(farmed, sent.job_ids, base, args.database)
        print(f"floor: insert {insert_seconds:.2f} s", flush=True)
        runs = []
        for agents in args.agents:
            runs.append(end_to_end(farmed, token, targets, args, agents))
            print(f"{agents} agent(s): {runs[-1].rate} jobs/s", flush=True)
    markdown = "\n".join(
        [
            f"{args.database}; farm of {FARM_HOURS} farm hours: {size['requests']} build requests, "
            f"{size['pending']} pending; the {size['targets']} newest {BRANCH} requests "
            "rebuilt in turn; "
            f"{os.cpu_count()} cores; whole run {time.perf_counter() - began:.0f} s",
            "",
            tables(args, sent, insert_seconds, runs),
        ]
    )
    print(markdown)
    if args.output:
        Path(args.output).write_text(markdown + "\n", encoding="utf-8")


def main() -> None:
    args = parse_args()
    in_data_dir(args.data_dir, "jobs-", lambda base: run(args, base))


if __name__ == "__main__":
    main()
