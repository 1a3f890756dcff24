"""The farm: one step at a time, pushes arrive, schedulers order builds, masters claim pending
requests for idle slaves, run them, and finish them into both databases (with their steps in
statusdb); a slave freed with nothing waiting for its pool may run an idle job."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from buildapi.clock import Clock
from buildapi.db.engines import Databases
from buildapi.db.queries import buildrequests as queue
from buildapi.db.queries.buildsets import buildset_properties_of, complete_buildsets
from buildapi.db.queries.changes import NewChange, insert_change, tip_change
from buildapi.db.queries.status_builds import (
    StatusBuild,
    StatusBuildStart,
    StatusWriter,
    close_unfinished_builds,
    find_build,
    last_buildnumber,
)
from buildapi.errors import NotFound
from buildapi.farm.idle import REASON as IDLE_REASON
from buildapi.farm.idle import IdleBuilder, IdleJobs
from buildapi.farm.jobs import plan_job
from buildapi.farm.properties import BuildFacts, finish_properties, start_properties
from buildapi.farm.pushes import make_push
from buildapi.farm.routing import Routing
from buildapi.farm.schedulers import Schedulers, Trigger
from buildapi.farm.slaves import SlavePools
from buildapi.farm.steps import plan_steps, steps_rng
from buildapi.farm.writetimes import WriteTimes
from buildapi.layout import FarmLayout, Master
from buildapi.vocabulary import Result, is_good

log = logging.getLogger(__name__)

DEFAULT_PUSH_RATE = 0.5  # pushes per farm hour on branches the settings do not list
HEARTBEAT_FARM_SECONDS = 300.0


@dataclass
class RunningBuild:
    """A build in progress; an idle job's has no requests, builds rows or sourcestamp."""

    master: Master
    buildername: str
    number: int
    slave: str
    brids: list[int]
    build_ids: list[int]
    status_id: int
    started: float
    finish_at: float
    result: int
    facts: BuildFacts
    sourcestampid: int | None
    buildsetids: list[int] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.master.name, self.buildername, self.number)

    @property
    def idle(self) -> bool:
        return self.facts.builder.kind == "idle"


@dataclass(frozen=True)
class Clobber:
    slave: str
    buildername: str
    requested_at: float


class Farm:
    """The simulated masters, slaves and schedulers. Thread-safe: the masters' web interface
    calls in from its own thread."""

    def __init__(
        self,
        layout: FarmLayout,
        databases: Databases,
        clock: Clock,
        *,
        seed: int,
        speed: float,
        zone: ZoneInfo,
        push_rates: Mapping[str, float],
        idle_jobs: bool = True,
    ) -> None:
        """`idle_jobs`: whether freed slaves run idle jobs (statusdb builds no request asked
        for), as real masters did; a test that wants only requested builds turns them off."""
        self.layout = layout
        self.databases = databases
        self.clock = clock
        self.speed = speed
        self.rng = random.Random(seed)
        self.times = WriteTimes(clock)
        self.push_rates = dict(push_rates)
        self.routing = Routing(layout)
        self.slaves = SlavePools(layout.slaves)
        self.schedulers = Schedulers(layout, self.rng, zone, speed, self.times.take)
        self.status = StatusWriter()
        self.step_rng = steps_rng(seed)
        self.idle = IdleJobs(layout, self.routing, seed, enabled=idle_jobs)
        self.lock = threading.RLock()
        self.running: dict[tuple[str, str, int], RunningBuild] = {}  # builds of requests
        self.idling: dict[tuple[str, str, int], RunningBuild] = {}  # idle jobs
        self._freed: list[str] = []  # slaves freed since the last idle-job check
        self.clobbers: list[Clobber] = []
        self._numbers: dict[tuple[str, str], int] = {}
        self._next_push: dict[str, float] = {}
        self._next_heartbeat = 0.0
        self.incarnations = {
            master.name: f"pid{self.rng.randint(1000, 65000)}-boot{int(clock.now())}"
            for master in layout.masters
        }

    def start(self) -> None:
        """Recover from a previous run: builds left running were lost, so they are retried."""
        with self.lock, self._transaction() as (scheduler, status):
            now = self.clock.now()
            lost = queue.live_builds(scheduler)
            if lost:
                queue.finish_builds(
                    scheduler, [build.build_id for build in lost], self.times.take()
                )
                queue.requeue_requests(scheduler, sorted({build.brid for build in lost}))
                log.info("requeued %d requests of builds lost in a restart", len(lost))
            close_unfinished_builds(status, now, Result.RETRY)
            for branch in sorted(self.layout.branches):
                self._next_push[branch] = now + self._push_gap(branch)
            self._next_heartbeat = now + HEARTBEAT_FARM_SECONDS / self.speed

    def step(self) -> None:
        """Do everything that is due at the clock's current time."""
        with self.lock:
            now = self.clock.now()
            try:
                with self._transaction() as (scheduler, status):
                    self._push(scheduler, now)
                    self.schedulers.process_changes(scheduler, now)
                    self.schedulers.run_periodic(scheduler, now)
                    self._finish_due(scheduler, status, now)
                    self._heartbeat(scheduler, now)
                    self._claim(scheduler, status, now)
                    self._run_idle(status, now)
            except Exception:
                self._forget_running()
                raise

    def advance(self, seconds: float, tick: float = 60.0) -> None:
        """For a virtual clock: move it forward `seconds`, stepping every `tick`."""
        advance = getattr(self.clock, "advance", None)
        if advance is None:
            raise TypeError("advance() needs a virtual clock")
        remaining = seconds
        while remaining > 0:
            advance(min(tick, remaining))
            remaining -= tick
            self.step()

    def run(self, stop: threading.Event, tick: float) -> None:
        """Step every `tick` real seconds until `stop` is set; a failed step is logged."""
        while not stop.wait(tick):
            try:
                self.step()
            except Exception:
                log.exception("farm step failed; builds in progress were requeued")

    # -- the masters' web interface calls these ---------------------------------------------

    def stop_build(self, master_name: str, buildername: str, number: int) -> RunningBuild | None:
        """Stop a running build (or idle job) now. Buildbot 0.8 has no CANCELLED: a stopped
        build ends cut short as FAILURE, and so do its requests. None when the build had
        already finished: stopping it again changes nothing."""
        with self.lock:
            key = (master_name, buildername, number)
            build = self.running.get(key) or self.idling.get(key)
            if build is None:
                if self.find_build(master_name, buildername, number) is None:
                    raise NotFound(f"no build {number} of {buildername!r} on {master_name}")
                return None
            with self._transaction() as (scheduler, status):
                self._complete(
                    scheduler, status, build, Result.FAILURE, self.clock.now(), stopped=True
                )
            return build

    def find_build(self, master_name: str, buildername: str, number: int) -> StatusBuild | None:
        with self.databases.statusdb.connect() as connection:
            return find_build(connection, master_name, buildername, number)

    def send_change(self, change: NewChange) -> int:
        """A change arriving through a master's change hook, stamped when the master writes
        it; schedulers act on the next step."""
        with self.lock, self.databases.schedulerdb.begin() as connection:
            return insert_change(connection, replace(change, when_timestamp=self.times.take()))

    def record_clobber(self, slave: str, buildername: str) -> Clobber:
        with self.lock:
            clobber = Clobber(slave, buildername, self.clock.now())
            self.clobbers.append(clobber)
            return clobber

    # -- one step ---------------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[tuple[Connection, Connection]]:
        """One transaction on each database; both commit or neither (short of a crash
        between the two commits, which start() repairs as lost builds)."""
        with (
            self.databases.schedulerdb.begin() as scheduler,
            self.databases.statusdb.begin() as status,
        ):
            yield scheduler, status

    def _push_gap(self, branch: str) -> float:
        rate = self.push_rates.get(branch, DEFAULT_PUSH_RATE)
        if rate <= 0:
            return float("inf")
        return self.rng.expovariate(rate * self.speed / 3600.0)

    def _push(self, connection: Connection, now: float) -> None:
        for branch in sorted(self._next_push):
            while self._next_push[branch] <= now:
                when = self._next_push[branch]
                push = make_push(self.rng, branch, when)
                repo = self.layout.branches[branch]
                for change in push.changes:
                    insert_change(
                        connection,
                        NewChange(
                            author=push.author,
                            comments=change.comments,
                            branch=repo.repo_path,
                            revision=change.revision,
                            when_timestamp=when,
                            revlink=f"{repo.repo}/rev/{change.revision}",
                            files=change.files,
                        ),
                    )
                self._next_push[branch] += self._push_gap(branch)

    def _heartbeat(self, connection: Connection, now: float) -> None:
        if now < self._next_heartbeat or not self.running:
            return
        brids = sorted(brid for build in self.running.values() for brid in build.brids)
        queue.refresh_claims(connection, brids, self.times.take())
        self._next_heartbeat = now + HEARTBEAT_FARM_SECONDS / self.speed

    def _finish_due(self, scheduler: Connection, status: Connection, now: float) -> None:
        due = sorted(
            (
                build
                for builds in (self.running, self.idling)
                for build in builds.values()
                if build.finish_at <= now
            ),
            key=lambda build: (build.finish_at, build.key),
        )
        for build in due:
            self._complete(scheduler, status, build, build.result, now)

    def _complete(
        self,
        scheduler: Connection,
        status: Connection,
        build: RunningBuild,
        result: int,
        now: float,
        stopped: bool = False,
    ) -> None:
        del (self.idling if build.idle else self.running)[build.key]
        self.slaves.release(build.slave)
        self._freed.append(build.slave)
        if not build.idle:  # idle jobs have no schedulerdb rows
            queue.finish_builds(scheduler, build.build_ids, self.times.take())
            if result == Result.RETRY:
                queue.requeue_requests(scheduler, build.brids)
            else:
                done = self.times.take()  # requests and buildsets complete in one statement's time
                queue.complete_requests(scheduler, build.brids, result, done)
                complete_buildsets(scheduler, build.buildsetids, done)
        self.status.finish_build(
            status, build.status_id, now, result, finish_properties(build.facts, result)
        )
        self.status.add_steps(
            status,
            build.status_id,
            plan_steps(
                self.step_rng,
                build.buildername,
                build.facts.builder.kind,
                int(build.started),
                int(now),
                result,
                stopped=stopped,
            ),
        )
        builder = self.layout.builders.get(build.buildername)  # None for idle jobs
        if (
            builder is not None
            and builder.kind == "build"
            and build.sourcestampid is not None
            and is_good(result)
        ):
            trigger = Trigger(build.buildername, build.sourcestampid, dict(build.facts.buildset))
            self.schedulers.trigger_tests(scheduler, trigger, now)

    def _claim(self, scheduler: Connection, status: Connection, now: float) -> None:
        pending = queue.pending_requests(scheduler)
        mergeable: dict[tuple[str, str | None], list[queue.QueuedRequest]] = {}
        for request in pending:
            mergeable.setdefault((request.buildername, request.branch), []).append(request)
        taken: set[int] = set()
        for request in pending:
            if request.id in taken:
                continue
            builder = self.layout.builders.get(request.buildername)
            if builder is None or not self.slaves.has_idle(builder.slavepool):
                continue
            master = self.routing.pick_master(request.buildername, self.rng)
            if master is None:
                continue
            group = [request]
            if builder.properties.branch != "try":  # try pushes carry their own patches
                group += [
                    other
                    for other in mergeable[(request.buildername, request.branch)]
                    if other.id != request.id and other.id not in taken
                ]
            self._start(scheduler, status, master, group, now)
            taken.update(r.id for r in group)

    def _run_idle(self, status: Connection, now: float) -> None:
        """Slaves freed since the last step may run their pool's idle job. One still idle
        after the claims means no request some master would claim waits for its pool."""
        freed, self._freed = sorted(set(self._freed)), []
        for slave in freed:
            idle = self.idle.offer(self.slaves, slave, now)
            if idle is not None:
                self._start_idle(status, idle, slave, now)

    def _start_idle(self, status: Connection, idle: IdleBuilder, slave: str, now: float) -> None:
        """An idle job: a statusdb build (with an empty sourcestamp) and no request behind it."""
        self.slaves.take_named(slave)
        run = self.idle.plan(idle, slave, now, self.speed)
        master = run.master
        number = self._next_number(status, master, idle.name)
        facts = BuildFacts(
            buildername=idle.name,
            builder=idle.builder,
            master=master,
            slave=slave,
            number=number,
            revision=None,
            request_times={},
            buildset={},
        )
        status_id = self.status.start_build(
            status,
            StatusBuildStart(
                buildername=idle.name,
                buildnumber=number,
                category=idle.builder.properties.branch,
                master_url=f"{master.http_url}/",
                master_name=master.name,
                slave=slave,
                starttime=now,
                reason=IDLE_REASON,
                branch=None,
                revision=None,
                properties=start_properties(facts),
            ),
        )
        build = RunningBuild(
            master=master,
            buildername=idle.name,
            number=number,
            slave=slave,
            brids=[],
            build_ids=[],
            status_id=status_id,
            started=now,
            finish_at=run.finish,
            result=run.result,
            facts=facts,
            sourcestampid=None,
        )
        self.idling[build.key] = build

    def _start(
        self,
        scheduler: Connection,
        status: Connection,
        master: Master,
        group: list[queue.QueuedRequest],
        now: float,
    ) -> bool:
        incarnation = self.incarnations[master.name]
        claimed_at = self.times.take()
        claimed = [
            request
            for request in group
            if queue.claim_request(scheduler, request.id, claimed_at, master.db_name, incarnation)
        ]
        if not claimed:
            return False
        buildername = claimed[0].buildername
        builder = self.layout.builders[buildername]
        number = self._next_number(status, master, buildername)
        # One INSERT per merged request, each at its own time: same number, start times apart.
        build_ids = [
            queue.insert_build(scheduler, r.id, number, self.times.take()) for r in claimed
        ]
        newest = max(claimed, key=lambda r: r.id)
        slave = self.slaves.take(builder.slavepool, self.rng)
        tip = tip_change(scheduler, newest.sourcestampid)
        facts = BuildFacts(
            buildername=buildername,
            builder=builder,
            master=master,
            slave=slave,
            number=number,
            revision=newest.revision,
            request_times={r.id: r.submitted_at for r in claimed},
            buildset=buildset_properties_of(scheduler, newest.buildsetid),
            pusher=tip.author if tip else None,
            comments=tip.comments if tip else "",
        )
        status_id = self.status.start_build(
            status,
            StatusBuildStart(
                buildername=buildername,
                buildnumber=number,
                category=builder.properties.branch,
                master_url=f"{master.http_url}/",
                master_name=master.name,
                slave=slave,
                starttime=now,
                reason="scheduler",
                branch=newest.branch,
                revision=newest.revision,
                properties=start_properties(facts),
                scheduler_links=tuple(
                    (r.id, build_id) for r, build_id in zip(claimed, build_ids, strict=True)
                ),
            ),
        )
        plan = plan_job(self.rng, builder.kind, builder.properties.platform)
        build = RunningBuild(
            master=master,
            buildername=buildername,
            number=number,
            slave=slave,
            brids=[r.id for r in claimed],
            build_ids=build_ids,
            status_id=status_id,
            started=now,
            finish_at=now + plan.duration / self.speed,
            result=plan.result,
            facts=facts,
            sourcestampid=newest.sourcestampid,
            buildsetids=sorted({r.buildsetid for r in claimed}),
        )
        self.running[build.key] = build
        return True

    def _next_number(self, status: Connection, master: Master, buildername: str) -> int:
        key = (master.name, buildername)
        if key not in self._numbers:
            self._numbers[key] = last_buildnumber(status, buildername, master.name)
        self._numbers[key] += 1
        return self._numbers[key]

    def _forget_running(self) -> None:
        """After a failed step the databases rolled back; rebuild memory from them."""
        for build in (*self.running.values(), *self.idling.values()):
            self.slaves.release(build.slave)
        self.running.clear()
        self.idling.clear()
        self._freed.clear()
        self._numbers.clear()
        self.status.forget()
        self.start()
