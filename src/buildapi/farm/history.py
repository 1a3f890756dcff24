"""A farm's past, written straight into schedulerdb and statusdb so reports and benchmarks have
months of data.

The live farm (farm.py) steps a clock and writes row by row, far too slowly for months. Here
one discrete-event simulation runs over the window with the live farm's own parts (pushes,
job plans, properties, routing, slave pools) and writes every row once, in its final state,
with bulk inserts and ids counted from the databases' highest ones; one simulated day is one
transaction, so memory holds only what is still pending or running.
"""

from __future__ import annotations

import heapq
import json
import math
import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from buildapi.config import DEFAULT_PUSH_RATES
from buildapi.db.engines import Databases
from buildapi.db.queries.buildsets import encode
from buildapi.db.queries.bulk import (
    BulkInserter,
    StatusNames,
    known_properties,
    last_buildnumbers,
    next_ids,
    raise_last_processed,
    status_names,
    sync_sequences,
)
from buildapi.db.queries.changes import latest_revision
from buildapi.db.queries.status_builds import PROPERTY_SOURCES, naive_utc
from buildapi.db.schema import scheduler_metadata, status_metadata
from buildapi.farm.farm import DEFAULT_PUSH_RATE, HEARTBEAT_FARM_SECONDS
from buildapi.farm.jobs import PROFILES, RETRY, is_good, plan_job
from buildapi.farm.properties import (
    BuildFacts,
    buildset_properties,
    finish_properties,
    start_properties,
)
from buildapi.farm.pushes import Push, make_push
from buildapi.farm.routing import Routing
from buildapi.farm.schedulers import CLASS_NAME, DAY, PERIODIC
from buildapi.farm.selection import Selector, tests_scheduler
from buildapi.farm.slaves import SlavePools
from buildapi.farm.trychooser import TrySelection
from buildapi.layout import Builder, FarmLayout, Master

# Candidate pushes arrive this many times faster than needed; only those that bring the count
# closer to the target line are kept, so small histories land near the target too.
OVERSAMPLE = 3.0
# When a busy farm merges requests and so makes fewer tests per push than calibrated, the
# count falls behind; candidates then come faster, by how many hours of requests it is behind,
# up to this factor.
MAX_BOOST = 20.0
CALIBRATION_PUSHES = 200
STATUS_TEXT = 50  # statusdb keeps 50 characters of a sourcestamp's branch and revision
# Property values tied to one push, buildset or build: remembered for two simulated days
# only (retries and merged builds reuse them within hours). Other names have few values,
# remembered for the whole run.
SHORT_LIVED_PROPERTIES = frozenset(
    {
        "blobber_files", "build_url", "buildid", "builduid", "got_revision", "log_url",
        "packageUrl", "request_ids", "request_times", "revision",
    }
)  # fmt: skip
# Property values the cache keys on directly (exact types: True is not 1, "1" is not 1).
SCALARS = frozenset({str, int, type(None)})
JSON = object()  # marks a key made of a value's JSON
PUSH, PERIODIC_RUN, FINISH = range(3)


@dataclass(frozen=True)
class HistoryStats:
    """What one run wrote."""

    pushes: int
    buildsets: int
    requests: int
    builds: int  # schedulerdb builds rows (one per request a build ran)
    status_builds: int
    rows: int  # rows inserted into both databases
    seconds: float


# -- how many pushes: rates calibrated so the request count meets the target ----------------


def good_build_share() -> float:
    """Chance that a build ends good (and requests its tests), retries being run again."""
    weights = dict(PROFILES["build"].results)
    good = sum(weight for result, weight in weights.items() if is_good(result))
    return good / (sum(weights.values()) - weights.get(RETRY, 0.0))


@dataclass(frozen=True)
class Calibration:
    rates: dict[str, float]  # candidate pushes per second, per branch
    periodic: bool  # whether nightly and PGO builds fit in the target
    target: float  # build requests to make by `end`
    hourly: float  # build requests to make per hour


def calibrate(
    layout: FarmLayout,
    selector: Selector,
    *,
    days: float,
    jobs_per_day: int,
    push_rates: Mapping[str, float],
    seed: int,
) -> Calibration:
    """Scale the branches' relative push rates to the target, from sample pushes."""
    rng = random.Random(seed)
    good = good_build_share()
    per_push: dict[str, float] = {}  # branch -> requests per push, tests included
    for branch in sorted(layout.branches):
        samples = [make_push(rng, branch, 0) for _ in range(CALIBRATION_PUSHES)]
        per_push[branch] = sum(
            len(names) + expected_tests(selector, names, selection, good)
            for names, selection in (
                selector.for_push(branch, push.tip.comments) for push in samples
            )
        ) / len(samples)
    base = {b: push_rates.get(b, DEFAULT_PUSH_RATE) for b in sorted(layout.branches)}
    periodic_per_day = sum(
        DAY / interval * len(selector.periodic(branch, kinds))
        for branch in layout.branches
        for interval, kinds in PERIODIC.values()
    )
    periodic = periodic_per_day <= jobs_per_day / 2
    wanted = jobs_per_day - (periodic_per_day if periodic else 0.0)
    per_day = sum(rate * 24 * per_push[b] for b, rate in base.items())
    scale = wanted / per_day if per_day > 0 else 0.0
    return Calibration(
        rates={b: rate * scale * OVERSAMPLE / 3600 for b, rate in base.items()},
        periodic=periodic,
        target=days * jobs_per_day,
        hourly=jobs_per_day / 24,
    )


def expected_tests(
    selector: Selector, builds: Iterable[str], selection: TrySelection | None, good: float
) -> float:
    """How many test requests these build requests should trigger, on average."""
    return sum(len(selector.tests_for(name, selection)) for name in builds) * good


# -- the simulation's objects ---------------------------------------------------------------


@dataclass(eq=False, slots=True)
class Stamp:
    """A sourcestamp and what its push asked of try."""

    id: int
    branch: str  # repo path
    revision: str | None
    selection: TrySelection | None


@dataclass(eq=False, slots=True)
class Order:
    """A buildset, kept until all its requests are complete."""

    id: int
    stamp: Stamp
    submitted_at: int
    properties: dict[str, tuple[Any, str]]
    open: int
    worst: int = 0


@dataclass(eq=False, slots=True)
class Request:
    id: int
    buildername: str
    builder: Builder
    order: Order
    expected: float = 0.0  # test requests expected from it while it waits


@dataclass(eq=False, slots=True)
class Attempt:
    """One build: a slave running one request or several merged ones."""

    master: Master
    slave: str
    requests: list[Request]
    start: int
    finish: int
    result: int
    facts: BuildFacts
    build_rows: list[dict[str, Any]]
    status_row: dict[str, Any]
    expected: float  # test requests it will trigger


class Ids:
    """The next free id of each table, handed out without asking the database."""

    def __init__(self, first: Mapping[str, int]) -> None:
        self._next = dict(first)

    def take(self, table: str) -> int:
        value = self._next[table]
        self._next[table] = value + 1
        return value

    def last(self, table: str) -> int:
        """The id taken last (or the highest that was there)."""
        return self._next[table] - 1


@dataclass
class Sinks:
    """Where rows go during one transaction."""

    scheduler: BulkInserter
    status: BulkInserter

    def flush(self) -> None:
        self.scheduler.flush()
        self.status.flush()

    @property
    def written(self) -> int:
        return self.scheduler.written + self.status.written


@dataclass
class Counts:
    """Rows made so far (HistoryStats' counts while the run goes on)."""

    pushes: int = 0
    buildsets: int = 0
    requests: int = 0
    builds: int = 0
    status_builds: int = 0


# -- statusdb rows ----------------------------------------------------------------------------


class StatusRows:
    """statusdb ids: rows builds share (masters, builders, slaves, properties) and new ones."""

    def __init__(
        self, ids: Ids, names: StatusNames, known: dict[tuple[str, str, str], int]
    ) -> None:
        self.ids = ids
        self.names = names
        self.lasting = {
            property_key(name, json.loads(value), value): pid
            for (name, source, value), pid in known.items()
            if source == PROPERTY_SOURCES.get(name, "Build")
        }
        self.recent: dict[tuple, int] = {}
        self.older: dict[tuple, int] = {}

    def next_day(self) -> None:
        """Forget short-lived property values older than two days: memory stays bounded."""
        self.older, self.recent = self.recent, {}

    def start_build(self, out: BulkInserter, facts: BuildFacts, stamp: Stamp, start: int) -> dict:
        """Write what is known at the start; return the builds row, completed at the end."""
        master_id = self._master(out, facts.master)
        source_id = self.ids.take("sourcestamps")
        out.add(
            "sourcestamps",
            {
                "id": source_id,
                "branch": clip(stamp.branch),
                "revision": clip(stamp.revision),
                "patch_id": None,
            },
        )
        row = {
            "id": self.ids.take("builds"),
            "buildnumber": facts.number,
            "builder_id": self._builder(out, facts.buildername, facts.builder, master_id),
            "slave_id": self._slave(out, facts.slave),
            "master_id": master_id,
            "starttime": naive_utc(start),
            "endtime": None,
            "result": None,
            "reason": "scheduler",
            "source_id": source_id,
            "lost": False,
        }
        self.add_properties(out, row["id"], start_properties(facts))
        return row

    def add_properties(self, out: BulkInserter, build_id: int, values: Mapping[str, Any]) -> None:
        out.extend(
            "build_properties",
            [
                {"property_id": self._property(out, name, value), "build_id": build_id}
                for name, value in sorted(values.items())
            ],
        )

    def _property(self, out: BulkInserter, name: str, value: Any) -> int:
        encoded = None
        if type(value) in SCALARS:
            key: tuple = (name, value)
        else:
            encoded = json.dumps(value)
            key = (name, JSON, encoded)
        short_lived = name in SHORT_LIVED_PROPERTIES
        cache = self.recent if short_lived else self.lasting
        found = cache.get(key)
        if found is None and short_lived:
            found = self.older.get(key)
        if found is None:
            found = self.ids.take("properties")
            out.add(
                "properties",
                {
                    "id": found,
                    "name": name,
                    "source": PROPERTY_SOURCES.get(name, "Build"),
                    "value": json.dumps(value) if encoded is None else encoded,
                },
            )
        cache[key] = found
        return found

    def _master(self, out: BulkInserter, master: Master) -> int:
        url = f"{master.http_url}/"
        if url not in self.names.masters:
            self.names.masters[url] = self.ids.take("masters")
            out.add("masters", {"id": self.names.masters[url], "url": url, "name": master.name})
        return self.names.masters[url]

    def _builder(self, out: BulkInserter, name: str, builder: Builder, master_id: int) -> int:
        key = (name, master_id)
        if key not in self.names.builders:
            self.names.builders[key] = self.ids.take("builders")
            out.add(
                "builders",
                {
                    "id": self.names.builders[key],
                    "name": name,
                    "master_id": master_id,
                    "category": builder.properties.branch,
                },
            )
        return self.names.builders[key]

    def _slave(self, out: BulkInserter, name: str) -> int:
        if name not in self.names.slaves:
            self.names.slaves[name] = self.ids.take("slaves")
            out.add("slaves", {"id": self.names.slaves[name], "name": name})
        return self.names.slaves[name]


def property_key(name: str, value: Any, encoded: str) -> tuple:
    """How the property cache knows a value: scalars as themselves (no JSON encoding on the
    way), anything else by its JSON."""
    return (name, value) if type(value) in SCALARS else (name, JSON, encoded)


def clip(text: str | None) -> str | None:
    return text[:STATUS_TEXT] if text else text


# -- the simulation ---------------------------------------------------------------------------


class History:
    """Candidate pushes and periodic schedulers order build requests into one queue per slave
    pool; an idle slave takes the oldest request (with the same builder's other waiting
    requests, except on try); a finished build completes, retries or requests its tests.
    Events run in time order, so waits are real when a pool is busy."""

    def __init__(
        self,
        layout: FarmLayout,
        selector: Selector,
        calibration: Calibration,
        *,
        seed: int,
        start: float,
        end: float,
        zone: ZoneInfo,
        ids: Ids,
        status: StatusRows,
        numbers: dict[tuple[str, str], int],
        latest: dict[str, str | None],
    ) -> None:
        self.layout = layout
        self.selector = selector
        self.calibration = calibration
        self.rng = random.Random(seed)
        self.start, self.end, self.zone = start, end, zone
        self.ids, self.status, self.numbers, self.latest = ids, status, numbers, latest
        self.routing = Routing(layout)
        self.slaves = SlavePools(layout.slaves)
        self.good = good_build_share()
        self.incarnations = {
            master.name: f"pid{self.rng.randint(1000, 65000)}-boot{int(start)}"
            for master in layout.masters
        }
        self.events: list[tuple[float, int, int, Any]] = []
        self.queues: dict[str, list[tuple[int, int, Request]]] = {}
        self.mergeable: dict[str, dict[int, Request]] = {}
        self.pending: dict[int, Request] = {}
        self.running: dict[int, Attempt] = {}  # by statusdb build id
        self.orders: dict[int, Order] = {}  # buildsets not complete yet
        self.outstanding = 0.0  # test requests expected from waiting and running builds
        self.counts = Counts()
        self.out: Sinks | None = None
        self._seq = 0
        self._schedule_first()

    def run_until(self, limit: float, out: Sinks) -> None:
        """Handle every event before `limit`, writing through `out`."""
        self.out = out
        handlers = {PUSH: self._push, PERIODIC_RUN: self._periodic, FINISH: self._finish}
        while self.events and self.events[0][0] < limit:
            when, _seq, kind, payload = heapq.heappop(self.events)
            handlers[kind](when, payload)

    def close(self) -> None:
        """Write what is still running, pending or incomplete at `end`, as it stands."""
        for attempt in self.running.values():
            self._write_builds(attempt, None)
            for request in attempt.requests:
                self._write_request(request, attempt, None)
        for request in self.pending.values():
            self._write_request(request, None, None)
        for order in self.orders.values():
            self._write_order(order, None)

    @property
    def sinks(self) -> Sinks:
        if self.out is None:
            raise RuntimeError("run_until() sets where rows go")
        return self.out

    def _at(self, when: float, kind: int, payload: Any) -> None:
        self._seq += 1
        heapq.heappush(self.events, (when, self._seq, kind, payload))

    def _schedule_first(self) -> None:
        for branch, rate in sorted(self.calibration.rates.items()):
            if rate > 0:
                self._at(self.start + self.rng.expovariate(rate), PUSH, branch)
        if not self.calibration.periodic:
            return
        for branch in sorted(self.layout.branches):
            for kind, (interval, kinds) in PERIODIC.items():
                names = self.selector.periodic(branch, kinds)
                if names:
                    first = self.start + self.rng.uniform(0.1, 1.0) * interval
                    self._at(first, PERIODIC_RUN, (branch, kind, names))

    # -- what arrives -----------------------------------------------------------------------

    def _push(self, when: float, branch: str) -> None:
        """A candidate push, kept when it brings the count closer to the target line. The
        further behind the count is, the sooner the next candidate comes."""
        now = int(when)
        push = make_push(self.rng, branch, now)
        names, selection = self.selector.for_push(branch, push.tip.comments)
        done, behind = self._behind(when)
        boost = min(max(1.0, behind / self.calibration.hourly), MAX_BOOST)
        self._at(when + self.rng.expovariate(self.calibration.rates[branch] * boost), PUSH, branch)
        tests = expected_tests(self.selector, names, selection, self.good)
        if behind <= (len(names) + tests * (1 - done)) / 2:
            return
        self.counts.pushes += 1
        self.latest[branch] = push.tip.revision
        changeids = self._write_changes(branch, push)
        if names:
            repo_path = self.layout.branches[branch].repo_path
            stamp = self._stamp(repo_path, push.tip.revision, selection, changeids)
            properties = buildset_properties(self.rng, branch, f"{branch}-dep", now, self.zone)
            self._order(stamp, properties, names, now)

    def _behind(self, when: float) -> tuple[float, float]:
        """(share of the window done, requests the count is behind the target line). Expected
        tests count less as `end` nears: those requested after it never are, and the count at
        `end` is what must meet the target."""
        done = (when - self.start) / (self.end - self.start)
        count = self.counts.requests + self.outstanding * (1 - done)
        return done, self.calibration.target * done - count

    def _periodic(self, when: float, payload: tuple[str, str, list[str]]) -> None:
        """Nightly and PGO builds, at the branch's newest revision."""
        branch, kind, names = payload
        self._at(when + PERIODIC[kind][0], PERIODIC_RUN, payload)
        revision = self.latest.get(branch)
        if revision is None:
            return
        now = int(when)
        stamp = self._stamp(self.layout.branches[branch].repo_path, revision, None, [])
        properties = buildset_properties(self.rng, branch, f"{branch}-{kind}", now, self.zone)
        self._order(stamp, properties, names, now)

    def _write_changes(self, branch: str, push: Push) -> list[int]:
        repo = self.layout.branches[branch]
        changeids = []
        for change in push.changes:
            changeid = self.ids.take("changes")
            self.sinks.scheduler.add(
                "changes",
                {
                    "changeid": changeid,
                    "author": push.author,
                    "comments": change.comments,
                    "is_dir": 0,
                    "branch": repo.repo_path,
                    "revision": change.revision,
                    "revlink": f"{repo.repo}/rev/{change.revision}",
                    "when_timestamp": push.when,
                    "category": None,
                    "repository": "",
                    "project": "",
                },
            )
            for filename in change.files:
                self.sinks.scheduler.add(
                    "change_files", {"changeid": changeid, "filename": filename}
                )
            changeids.append(changeid)
        return changeids

    def _stamp(
        self,
        repo_path: str,
        revision: str | None,
        selection: TrySelection | None,
        changeids: list[int],
    ) -> Stamp:
        stamp = Stamp(self.ids.take("sourcestamps"), repo_path, revision, selection)
        self.sinks.scheduler.add(
            "sourcestamps",
            {
                "id": stamp.id,
                "branch": repo_path,
                "revision": revision,
                "patchid": None,
                "repository": "",
                "project": "",
            },
        )
        for changeid in changeids:
            self.sinks.scheduler.add(
                "sourcestamp_changes", {"sourcestampid": stamp.id, "changeid": changeid}
            )
        return stamp

    def _order(
        self, stamp: Stamp, properties: dict[str, tuple[Any, str]], builders: list[str], now: int
    ) -> None:
        """A buildset with one request per builder; its row waits until it is complete."""
        order = Order(self.ids.take("buildsets"), stamp, now, properties, open=len(builders))
        self.orders[order.id] = order
        self.counts.buildsets += 1
        for name, value in properties.items():
            self.sinks.scheduler.add(
                "buildset_properties",
                {"buildsetid": order.id, "property_name": name, "property_value": encode(value)},
            )
        requests = []
        for name in builders:
            builder = self.layout.builders[name]
            requests.append(Request(self.ids.take("buildrequests"), name, builder, order))
        self.counts.requests += len(requests)
        self._enqueue(requests, now)

    # -- queues and slaves ------------------------------------------------------------------

    def _enqueue(self, requests: list[Request], now: int) -> None:
        pools = set()
        for request in requests:
            self.pending[request.id] = request
            if self._runnable(request):
                self._queue(request)
                pools.add(request.builder.slavepool)
        for pool in sorted(pools):
            self._dispatch(pool, now)

    def _runnable(self, request: Request) -> bool:
        """Whether a master serves its builder and its pool has slaves (else it stays pending)."""
        masters = self.routing.masters_for(request.buildername)
        return bool(masters) and bool(self.layout.slaves.get(request.builder.slavepool))

    def _queue(self, request: Request) -> None:
        entry = (request.order.submitted_at, request.id, request)
        heapq.heappush(self.queues.setdefault(request.builder.slavepool, []), entry)
        waiting = None
        if request.builder.properties.branch != "try":  # try pushes carry their own patches
            waiting = self.mergeable.setdefault(request.buildername, {})
        if not waiting:  # else it will merge into a build whose tests are counted already
            request.expected = self._tests_expected(request, request.order.stamp, self.good)
            self.outstanding += request.expected
        if waiting is not None:
            waiting[request.id] = request

    def _dispatch(self, pool: str, now: int) -> None:
        """Idle slaves take the oldest waiting requests (all history requests have priority 0)."""
        queue = self.queues.get(pool)
        while queue and self.slaves.has_idle(pool):
            request = heapq.heappop(queue)[2]
            if request.id in self.pending:  # else it ran merged into another
                self._start(self._group(request), now)

    def _group(self, request: Request) -> list[Request]:
        """The request and its builder's other waiting requests, merged into one build."""
        del self.pending[request.id]
        waiting = self.mergeable.get(request.buildername)
        if waiting is None:
            return [request]
        del waiting[request.id]
        group = [request, *waiting.values()]
        for other in waiting.values():
            del self.pending[other.id]
        waiting.clear()
        return group

    def _start(self, group: list[Request], now: int) -> None:
        head, newest = group[0], max(group, key=lambda request: request.id)
        master = self.routing.pick_master(head.buildername, self.rng)
        assert master is not None  # _enqueue queues only requests some master serves
        facts = BuildFacts(
            buildername=head.buildername,
            builder=head.builder,
            master=master,
            slave=self.slaves.take(head.builder.slavepool, self.rng),
            number=self._next_number(master, head.buildername),
            revision=newest.order.stamp.revision,
            request_times={request.id: request.order.submitted_at for request in group},
            buildset=newest.order.properties,
        )
        status_row = self.status.start_build(self.sinks.status, facts, newest.order.stamp, now)
        build_rows = [
            self._build_row(request, facts.number, status_row["id"], now) for request in group
        ]
        plan = plan_job(self.rng, head.builder.kind, head.builder.properties.platform)
        finish = now + int(plan.duration)
        share = self.good if plan.result == RETRY else float(is_good(plan.result))
        attempt = Attempt(
            master,
            facts.slave,
            group,
            now,
            finish,
            plan.result,
            facts,
            build_rows,
            status_row,
            expected=self._tests_expected(newest, newest.order.stamp, share),
        )
        self.outstanding += attempt.expected - sum(request.expected for request in group)
        for request in group:
            request.expected = 0.0
        self.running[status_row["id"]] = attempt
        self.counts.builds += len(group)
        self.counts.status_builds += 1
        if finish < self.end:
            self._at(finish, FINISH, attempt)

    def _build_row(self, request: Request, number: int, status_id: int, now: int) -> dict[str, Any]:
        """A schedulerdb builds row (written when it finishes) and its statusdb link."""
        row = {
            "id": self.ids.take("builds"),
            "number": number,
            "brid": request.id,
            "start_time": now,
            "finish_time": None,
        }
        self.sinks.status.add(
            "schedulerdb_requests",
            {
                "status_build_id": status_id,
                "scheduler_request_id": request.id,
                "scheduler_build_id": row["id"],
            },
        )
        return row

    def _tests_expected(self, request: Request, stamp: Stamp, share: float) -> float:
        """Test requests a build of `request` triggers, at a chance of `share` to be good."""
        if request.builder.kind != "build":
            return 0.0
        return share * len(self.selector.tests_for(request.buildername, stamp.selection))

    def _next_number(self, master: Master, buildername: str) -> int:
        key = (f"{master.http_url}/", buildername)
        self.numbers[key] = self.numbers.get(key, -1) + 1
        return self.numbers[key]

    # -- what finishes ----------------------------------------------------------------------

    def _finish(self, when: float, attempt: Attempt) -> None:
        now = int(when)
        del self.running[attempt.status_row["id"]]
        self.outstanding -= attempt.expected
        self.slaves.release(attempt.slave)
        self._write_builds(attempt, now)
        extra = finish_properties(attempt.facts, attempt.result)
        self.status.add_properties(self.sinks.status, attempt.status_row["id"], extra)
        if attempt.result == RETRY:
            self._enqueue(attempt.requests, now)
        else:
            self._complete(attempt, now)
        self._dispatch(attempt.facts.builder.slavepool, now)

    def _complete(self, attempt: Attempt, now: int) -> None:
        for request in attempt.requests:
            self._write_request(request, attempt, now)
            order = request.order
            order.open -= 1
            order.worst = max(order.worst, attempt.result)
            if order.open == 0:
                del self.orders[order.id]
                self._write_order(order, now)
        if attempt.facts.builder.kind == "build" and is_good(attempt.result):
            self._request_tests(attempt, now)

    def _request_tests(self, attempt: Attempt, now: int) -> None:
        """A good build's tests, on the sourcestamp and properties of its newest request."""
        stamp = max(attempt.requests, key=lambda request: request.id).order.stamp
        name = attempt.facts.buildername
        tests = self.selector.tests_for(name, stamp.selection)
        if tests:
            scheduler = tests_scheduler(name, attempt.facts.builder)
            properties = {**attempt.facts.buildset, "scheduler": (scheduler, "Scheduler")}
            self._order(stamp, properties, tests, now)

    # -- final rows -------------------------------------------------------------------------

    def _write_builds(self, attempt: Attempt, finish: int | None) -> None:
        for row in attempt.build_rows:
            self.sinks.scheduler.add("builds", {**row, "finish_time": finish})
        status_row = attempt.status_row
        if finish is not None:
            status_row = {**status_row, "endtime": naive_utc(finish), "result": attempt.result}
        self.sinks.status.add("builds", status_row)

    def _write_request(self, request: Request, attempt: Attempt | None, done: int | None) -> None:
        """The request's row: complete at `done`, still running (no `done`) or pending."""
        claimed_at, master, incarnation = 0, None, None
        if attempt is not None:
            claimed_at = heartbeat(attempt.start, int(self.end) if done is None else done)
            master = attempt.master.db_name
            incarnation = self.incarnations[attempt.master.name]
        self.sinks.scheduler.add(
            "buildrequests",
            {
                "id": request.id,
                "buildsetid": request.order.id,
                "buildername": request.buildername,
                "priority": 0,
                "claimed_at": claimed_at,
                "claimed_by_name": master,
                "claimed_by_incarnation": incarnation,
                "complete": 0 if done is None else 1,
                "results": attempt.result if done is not None and attempt else None,
                "submitted_at": request.order.submitted_at,
                "complete_at": done,
            },
        )

    def _write_order(self, order: Order, done: int | None) -> None:
        self.sinks.scheduler.add(
            "buildsets",
            {
                "id": order.id,
                "external_idstring": None,
                "reason": "scheduler",
                "sourcestampid": order.stamp.id,
                "submitted_at": order.submitted_at,
                "complete": 0 if done is None else 1,
                "complete_at": done,
                "results": None if done is None else buildset_results(order.worst),
            },
        )


def heartbeat(start: int, until: int) -> int:
    """A running build's masters refresh `claimed_at` every heartbeat: its last one by `until`."""
    beat = int(HEARTBEAT_FARM_SECONDS)
    return start + (until - start) // beat * beat


def buildset_results(worst: int) -> int:
    """A complete buildset's results from its requests' worst: success, warnings or failure."""
    return 0 if worst == 0 else (1 if worst == 1 else 2)


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
