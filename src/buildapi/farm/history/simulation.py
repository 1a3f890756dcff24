"""The history's simulation: pushes, queues per slave pool, builds, retries and tests."""

from __future__ import annotations

import heapq
import random
from typing import Any
from zoneinfo import ZoneInfo

from buildapi.db.queries.buildsets import buildset_results, encode
from buildapi.db.queries.status_builds import naive_utc
from buildapi.farm.farm import HEARTBEAT_FARM_SECONDS
from buildapi.farm.history.calibration import Calibration, expected_tests, good_build_share
from buildapi.farm.history.records import (
    Attempt,
    Counts,
    Ids,
    Order,
    Request,
    Sinks,
    Stamp,
    StatusRows,
)
from buildapi.farm.history.tuning import FINISH, MAX_BOOST, PERIODIC_RUN, PUSH
from buildapi.farm.idle import REASON as IDLE_REASON
from buildapi.farm.idle import IdleJobs
from buildapi.farm.jobs import plan_job
from buildapi.farm.properties import (
    BuildFacts,
    buildset_properties,
    finish_properties,
)
from buildapi.farm.pushes import Push, make_push
from buildapi.farm.routing import Routing
from buildapi.farm.schedulers import PERIODIC
from buildapi.farm.selection import Selector, tests_scheduler
from buildapi.farm.slaves import SlavePools
from buildapi.farm.steps import plan_steps, steps_rng
from buildapi.farm.trychooser import TrySelection
from buildapi.farm.writetimes import STATEMENT_SECONDS
from buildapi.layout import FarmLayout, Master
from buildapi.vocabulary import Result, is_good

# -- the simulation ---------------------------------------------------------------------------


class History:
    """Candidate pushes and periodic schedulers order build requests into one queue per slave
    pool; an idle slave takes the oldest request (with the same builder's other waiting
    requests, except on try); a finished build completes, retries or requests its tests, and
    its freed slave may run an idle job when nothing waits for its pool. Events run in time
    order, so waits are real when a pool is busy."""

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
        self.idle = IdleJobs(layout, self.routing, seed)
        self.step_rng = steps_rng(seed)
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
        push = make_push(self.rng, branch, when)
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
            stamp = self._stamp(repo_path, push.tip.revision, selection, changeids, push)
            properties = buildset_properties(self.rng, branch, f"{branch}-dep", when, self.zone)
            self._order(stamp, properties, names, when)

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
        stamp = self._stamp(self.layout.branches[branch].repo_path, revision, None, [], None)
        properties = buildset_properties(self.rng, branch, f"{branch}-{kind}", when, self.zone)
        self._order(stamp, properties, names, when)

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
        push: Push | None,
    ) -> Stamp:
        pusher, comments = (push.author, push.tip.comments) if push else (None, "")
        stamp_id = self.ids.take("sourcestamps")
        stamp = Stamp(stamp_id, repo_path, revision, selection, pusher, comments)
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
        self,
        stamp: Stamp,
        properties: dict[str, tuple[Any, str]],
        builders: list[str],
        now: float,
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

    def _enqueue(self, requests: list[Request], now: float) -> None:
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

    def _dispatch(self, pool: str, now: float) -> None:
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

    def _start(self, group: list[Request], now: float) -> None:
        """Claim the group at `now` and start its build: one builds row per request, each a
        statement later than the one before (same number, start times apart)."""
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
            pusher=newest.order.stamp.pusher,
            comments=newest.order.stamp.comments,
        )
        status_row = self.status.start_build(self.sinks.status, facts, newest.order.stamp, now)
        build_rows = [
            self._build_row(request, facts.number, status_row["id"], now + i * STATEMENT_SECONDS)
            for i, request in enumerate(group, start=1)
        ]
        plan = plan_job(self.rng, head.builder.kind, head.builder.properties.platform)
        finish = now + int(plan.duration)
        share = self.good if plan.result == Result.RETRY else float(is_good(plan.result))
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
        self._run(attempt)

    def _offer_idle(self, slave: str, now: float) -> None:
        """A slave just freed, with nothing waiting for its pool, may run the pool's idle
        job: a build of statusdb alone, no request behind it."""
        idle = self.idle.offer(self.slaves, slave, now)
        if idle is None:
            return
        self.slaves.take_named(slave)
        run = self.idle.plan(idle, slave, now)
        master = run.master
        facts = BuildFacts(
            buildername=idle.name,
            builder=idle.builder,
            master=master,
            slave=slave,
            number=self._next_number(master, idle.name),
            revision=None,
            request_times={},
            buildset={},
        )
        status_row = self.status.start_build(self.sinks.status, facts, None, now, IDLE_REASON)
        self.counts.idle_builds += 1
        finish = run.finish
        self._run(Attempt(master, slave, [], now, finish, run.result, facts, [], status_row, 0.0))

    def _run(self, attempt: Attempt) -> None:
        """Count a started build and plan its finish, unless that comes after `end`."""
        self.running[attempt.status_row["id"]] = attempt
        self.counts.builds += len(attempt.requests)
        self.counts.status_builds += 1
        if attempt.finish < self.end:
            self._at(attempt.finish, FINISH, attempt)

    def _build_row(
        self, request: Request, number: int, status_id: int, start: float
    ) -> dict[str, Any]:
        """A schedulerdb builds row (written when it finishes) and its statusdb link."""
        row = {
            "id": self.ids.take("builds"),
            "number": number,
            "brid": request.id,
            "start_time": start,
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
        key = (master.name, buildername)
        self.numbers[key] = self.numbers.get(key, -1) + 1
        return self.numbers[key]

    # -- what finishes ----------------------------------------------------------------------

    def _finish(self, now: float, attempt: Attempt) -> None:
        del self.running[attempt.status_row["id"]]
        self.outstanding -= attempt.expected
        self.slaves.release(attempt.slave)
        self._write_builds(attempt, now)
        build_id, facts = attempt.status_row["id"], attempt.facts
        self.status.add_properties(
            self.sinks.status, build_id, finish_properties(facts, attempt.result)
        )
        self.status.add_steps(
            self.sinks.status,
            build_id,
            plan_steps(
                self.step_rng,
                facts.buildername,
                facts.builder.kind,
                int(attempt.start),  # statusdb's whole seconds
                int(now),
                attempt.result,
            ),
        )
        if attempt.result == Result.RETRY:
            self._enqueue(attempt.requests, now)
        else:
            self._complete(attempt, now)
        self._dispatch(facts.builder.slavepool, now)
        # A slave still idle after the dispatch means nothing waits for its pool.
        self._offer_idle(attempt.slave, now)

    def _complete(self, attempt: Attempt, now: float) -> None:
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

    def _request_tests(self, attempt: Attempt, now: float) -> None:
        """A good build's tests, on the sourcestamp and properties of its newest request."""
        stamp = max(attempt.requests, key=lambda request: request.id).order.stamp
        name = attempt.facts.buildername
        tests = self.selector.tests_for(name, stamp.selection)
        if tests:
            scheduler = tests_scheduler(name, attempt.facts.builder)
            properties = {**attempt.facts.buildset, "scheduler": (scheduler, "Scheduler")}
            self._order(stamp, properties, tests, now)

    # -- final rows -------------------------------------------------------------------------

    def _write_builds(self, attempt: Attempt, finish: float | None) -> None:
        for row in attempt.build_rows:
            self.sinks.scheduler.add("builds", {**row, "finish_time": finish})
        status_row = attempt.status_row
        if finish is not None:
            status_row = {**status_row, "endtime": naive_utc(finish), "result": attempt.result}
        self.sinks.status.add("builds", status_row)

    def _write_request(self, request: Request, attempt: Attempt | None, done: float | None) -> None:
        """The request's row: complete at `done`, still running (no `done`) or pending."""
        claimed_at, master, incarnation = 0, None, None
        if attempt is not None:
            claimed_at = heartbeat(attempt.start, self.end if done is None else done)
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

    def _write_order(self, order: Order, done: float | None) -> None:
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


def heartbeat(start: float, until: float) -> float:
    """A running build's masters refresh `claimed_at` every heartbeat: its last one by `until`."""
    return start + (until - start) // HEARTBEAT_FARM_SECONDS * HEARTBEAT_FARM_SECONDS
