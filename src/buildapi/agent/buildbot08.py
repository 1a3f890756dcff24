"""Job requests carried out on a Buildbot 0.8 farm: its scheduler database and its masters' web
interface.

At most once through the done-markers of agent/ledger.py, which this backend keeps in the
scheduler database itself, so each database effect commits with its marker.

Cancelling requests mixes database effects and HTTP: pending requests are cancelled in the
transaction, claimed ones by stopping their build. When a pass finds claimed requests it rolls
back, stops their builds, and runs again with those results, so the marker, the cancels and the
reported stops commit together.
"""

from __future__ import annotations

import datetime
import logging
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from buildapi.agent.actions import RetryLater
from buildapi.agent.ledger import FAILURE, Ledger, Txn
from buildapi.agent.masters import MasterError, MastersClient, StopResult
from buildapi.clock import Clock
from buildapi.db.queries.actions import (
    RequestState,
    build_state,
    cancel_if_pending,
    incomplete_requests_of_revision,
    live_build_number,
    request_state,
    set_priority_if_pending,
)
from buildapi.db.queries.buildrequests import request_buildsets
from buildapi.db.queries.buildsets import (
    NewBuildset,
    buildset_properties_of,
    complete_buildsets,
    insert_buildset,
    insert_sourcestamp,
)
from buildapi.db.queries.changes import NewChange, insert_change
from buildapi.db.queries.live import BranchFilter
from buildapi.layout import Branch, FarmLayout, Master
from buildapi.selfserve.messages import SELFSERVE_SUFFIX, JobRequest, Outcome

log = logging.getLogger(__name__)

OK = Outcome(False, "Ok")
STOP_COMMENT = "Cancelled via self-serve"
CHANGE_COMMENT = "Submitted via self-serve"
PROPERTY_SOURCE = "self-serve"
# A slave is clobbered before its build is stopped, unless the builder name has one of these.
NO_CLOBBER = ("nightly", " try ", "_try_", "talos", "pgo test", "opt test", "debug test")
REVISION = re.compile(r"[0-9a-fA-F]{12,40}")
MAX_COUNT = 100
# Requests claimed while being cancelled are stopped and the cancel runs again, this often.
CANCEL_PASSES = 3
UTC = ZoneInfo("UTC")


@dataclass(frozen=True)
class _StopTarget:
    brid: int
    master: Master
    buildername: str
    number: int


class _NeedsStop(Exception):
    """Raised inside a cancel pass to roll it back: these builds must be stopped first."""

    def __init__(self, targets: list[_StopTarget]) -> None:
        super().__init__(f"{len(targets)} builds to stop")
        self.targets = targets


class Buildbot08Backend:
    """The Backend of a Buildbot 0.8 farm. `zone` is the time zone of the `buildid` property
    of new builds (Mozilla's masters used Pacific time; pass the configured zone)."""

    def __init__(
        self,
        schedulerdb: Engine,
        layout: FarmLayout,
        masters: MastersClient,
        clock: Clock,
        *,
        zone: ZoneInfo = UTC,
    ) -> None:
        self.ledger = Ledger(schedulerdb, clock)
        self.layout = layout
        self.masters = masters
        self.zone = zone
        self._actions: dict[str, Callable[[JobRequest], Outcome]] = {
            "reprioritize": self._reprioritize,
            "cancel_request": self._cancel_request,
            "cancel_build": self._cancel_build,
            "rebuild_build": self._rebuild_build,
            "rebuild_request": self._rebuild_request,
            "cancel_revision": self._cancel_revision,
            "new_build_at_revision": self._new_build_at_revision,
            "new_pgobuild_at_revision": self._new_pgobuild_at_revision,
            "new_nightly_at_revision": self._new_nightly_at_revision,
            "new_build_for_builder": self._new_build_for_builder,
        }

    def perform(self, job: JobRequest) -> Outcome:
        """Carry out `job` once; a database outage raises RetryLater, any other failure is
        logged and answered (and recorded) as a generic error."""
        try:
            return self.ledger.stored(job.request_id) or self._actions[job.action](job)
        except Exception as exc:
            if _unavailable(exc):
                raise RetryLater(f"scheduler database unavailable: {exc}") from exc
            log.exception("job request %d (%s) failed", job.request_id, job.action)
            return self._record_failure(job)

    def _record_failure(self, job: JobRequest) -> Outcome:
        try:
            return self.ledger.record_failure(job)
        except Exception as exc:
            if _unavailable(exc):
                raise RetryLater(f"scheduler database unavailable: {exc}") from exc
            log.exception("cannot record the failure of job request %d", job.request_id)
            return FAILURE

    # -- requests and builds -------------------------------------------------------------------

    def _target(self, name: str, revision: str) -> Branch | Outcome:
        """The branch of a revision action, or the answer refusing it."""
        branch = self.layout.branches.get(name)
        if branch is None:
            return Outcome(True, f"Unknown branch {name}")
        if not REVISION.fullmatch(revision):
            return Outcome(True, f"Bad revision {revision!r}: 12 to 40 hexadecimal characters")
        return branch

    def _reprioritize(self, job: JobRequest) -> Outcome:
        brid, priority = job.args["brid"], job.args["priority"]

        def effect(txn: Txn) -> Outcome:
            if set_priority_if_pending(txn.connection, brid, priority):
                return OK
            state = request_state(txn.connection, brid)
            if state is None:
                return Outcome(True, "No request with that id")
            if state.complete:
                return Outcome(False, "Request is complete, nothing to do")
            return Outcome(False, "Request is running, nothing to do")

        return self.ledger.commit(job, effect)

    def _cancel_request(self, job: JobRequest) -> Outcome:
        brid = job.args["brid"]
        return self._cancel(job, lambda _txn: [brid])

    def _cancel_revision(self, job: JobRequest) -> Outcome:
        name, revision = job.args["branch"], job.args["revision"]
        branch = self._target(name, revision)
        if isinstance(branch, Outcome):
            return self.ledger.answer(job, branch)
        matching = BranchFilter(name, branch.repo_path)
        return self._cancel(
            job,
            lambda txn: incomplete_requests_of_revision(txn.connection, matching, revision.lower()),
            nothing=Outcome(False, "No incomplete requests at that revision"),
        )

    def _cancel(
        self,
        job: JobRequest,
        select: Callable[[Txn], Sequence[int]],
        nothing: Outcome = OK,
    ) -> Outcome:
        """Cancel each selected request: pending ones in the transaction (guarded against a
        master claiming them meanwhile), claimed ones by stopping the build that claimed them."""
        stopped: dict[int, Outcome] = {}
        for attempt in range(1, CANCEL_PASSES + 1):
            final = attempt == CANCEL_PASSES

            def effect(txn: Txn, final: bool = final) -> Outcome:
                return self._cancel_pass(txn, select(txn), stopped, final, nothing)

            try:
                return self.ledger.commit(job, effect)
            except _NeedsStop as needed:
                for target in needed.targets:
                    stopped[target.brid] = self._stop_request(target, job.who)
        raise AssertionError("the final cancel pass stops nothing")

    def _cancel_pass(
        self,
        txn: Txn,
        brids: Sequence[int],
        stopped: Mapping[int, Outcome],
        final: bool,
        nothing: Outcome,
    ) -> Outcome:
        connection, now = txn.connection, txn.now
        lines: list[Outcome] = []
        cancelled: list[int] = []
        to_stop: list[_StopTarget] = []
        for brid in sorted({*brids, *stopped}):
            if cancel_if_pending(connection, brid, now):
                cancelled.append(brid)
                lines.append(Outcome(False, f"{brid}: Ok"))
                continue
            if brid in stopped:
                lines.append(stopped[brid])
                continue
            state = request_state(connection, brid)
            if state is None:
                lines.append(Outcome(True, "No request with that id"))
            elif state.complete:
                lines.append(Outcome(False, f"Request {brid} is complete, nothing to do"))
            elif final:
                lines.append(Outcome(True, f"Error cancelling request {brid}: claimed again"))
            else:
                try:
                    to_stop.append(self._stop_target(connection, state))
                except MasterError as exc:
                    lines.append(Outcome(True, f"Error cancelling build (request {brid}): {exc}"))
        if to_stop:
            raise _NeedsStop(to_stop)
        complete_buildsets(connection, list(request_buildsets(connection, cancelled).values()), now)
        if not lines:
            return nothing
        return Outcome(any(line.errors for line in lines), "\n".join(line.msg for line in lines))

    def _stop_target(self, connection: Connection, state: RequestState) -> _StopTarget:
        master = self._claiming_master(state)
        number = live_build_number(connection, state.id)
        if number is None:
            raise MasterError(f"request {state.id} has no running build")
        return _StopTarget(state.id, master, state.buildername, number)

    def _stop_request(self, target: _StopTarget, who: str) -> Outcome:
        brid = target.brid
        try:
            result = self._stop(target.master, target.buildername, target.number, who)
        except MasterError as exc:
            return Outcome(True, f"Error cancelling build (request {brid}): {exc}")
        if result is StopResult.NOT_RUNNING:
            return Outcome(False, f"Request {brid} finished before it could be stopped")
        where = f"build {target.number} on {target.master.name}"
        return Outcome(False, f"{brid}: Ok (it was running; stopped {where})")

    def _cancel_build(self, job: JobRequest) -> Outcome:
        bid = job.args["bid"]
        with self.ledger.reading() as txn:
            build = build_state(txn.connection, bid)
        if build is None:
            return self.ledger.answer(job, Outcome(True, "No build with that id"))
        if build.finish_time is not None or build.request.complete:
            return self.ledger.answer(job, Outcome(False, "Build is complete, nothing to do"))
        try:
            master = self._claiming_master(build.request)
            result = self._stop(master, build.request.buildername, build.number, job.who)
        except MasterError as exc:
            return self.ledger.answer(job, Outcome(True, f"Error cancelling build {bid}: {exc}"))
        if result is StopResult.NOT_RUNNING:
            return self.ledger.answer(job, Outcome(False, "Build is complete, nothing to do"))
        return self.ledger.answer(job, OK)

    def _claiming_master(self, request: RequestState) -> Master:
        if not request.claimed_at or not request.claimed_by_name:
            raise MasterError(f"request {request.id} is not claimed by any master")
        master = self.layout.master_by_db_name(request.claimed_by_name)
        if master is None:
            raise MasterError(f"no master {request.claimed_by_name!r} in the farm layout")
        return master

    def _stop(self, master: Master, buildername: str, number: int, who: str) -> StopResult:
        """Clobber the build's slave first where the builder needs it (a failed clobber stops
        everything), then stop the build."""
        if not any(word in buildername for word in NO_CLOBBER):
            slave = self.masters.slave_of_build(master, buildername, number)
            if slave is None:
                log.warning("build %d of %r names no slave; not clobbering", number, buildername)
            else:
                self.masters.clobber(slave, buildername)
        return self.masters.stop_build(master, buildername, number, who, STOP_COMMENT)

    def _rebuild_build(self, job: JobRequest) -> Outcome:
        def source(txn: Txn) -> RequestState | None:
            build = build_state(txn.connection, job.args["bid"])
            return build.request if build else None

        return self._rebuild(job, source, "No build with that id")

    def _rebuild_request(self, job: JobRequest) -> Outcome:
        return self._rebuild(
            job,
            lambda txn: request_state(txn.connection, job.args["brid"]),
            "No request with that id",
        )

    def _rebuild(
        self,
        job: JobRequest,
        source: Callable[[Txn], RequestState | None],
        missing: str,
    ) -> Outcome:
        """`count` new buildsets of the same sourcestamp, each with a copy of every property
        (buildid and builduid too) and one pending request."""
        count, priority = job.args["count"], job.args["priority"]
        if not 1 <= count <= MAX_COUNT:
            return self.ledger.answer(job, Outcome(True, f"count must be 1 to {MAX_COUNT}"))

        def effect(txn: Txn) -> Outcome:
            request = source(txn)
            if request is None:
                return Outcome(True, missing)
            properties = buildset_properties_of(txn.connection, request.buildsetid)
            buildset = NewBuildset(
                reason=f"Self-serve: Rebuilt by {job.who}",
                submitted_at=txn.now,
                builders=[request.buildername],
                properties=properties,
                sourcestampid=request.sourcestampid,
                priority=priority,
                external_idstring=request.external_idstring,
            )
            for _ in range(count):
                insert_buildset(txn.connection, buildset)
            return OK

        return self.ledger.commit(job, effect)

    # -- new builds ------------------------------------------------------------------------------

    def _new_build_at_revision(self, job: JobRequest) -> Outcome:
        """A change through the change hook of a master of the branch's kind; the schedulers
        react to it as to a push."""
        name, revision = job.args["branch"], job.args["revision"]
        branch = self._target(name, revision)
        if isinstance(branch, Outcome):
            return self.ledger.answer(job, branch)
        master = self._change_master(name)
        if master is None:
            return self.ledger.answer(
                job, Outcome(True, f"No enabled master takes changes for {name}")
            )
        try:
            self.masters.send_change(
                master,
                branch=branch.repo_path,
                revision=revision,
                revlink=f"{branch.repo}/rev/{revision}",
                who=job.who,
                comments=CHANGE_COMMENT,
            )
        except MasterError as exc:
            return self.ledger.answer(job, Outcome(True, f"Error sending the change: {exc}"))
        return self.ledger.answer(job, OK)

    def _change_master(self, branch: str) -> Master | None:
        """The first enabled master of the branch's pool (try masters for try, build masters
        otherwise), else any enabled build or try master: each shares the scheduler database,
        so any of them hands the change to the schedulers."""
        role = "try" if branch == "try" else "build"
        enabled = [master for master in self.layout.masters if master.enabled]
        preferred = [master for master in enabled if master.role == role]
        fallback = [master for master in enabled if master.role in ("build", "try")]
        return next(iter(preferred or fallback), None)

    def _new_pgobuild_at_revision(self, job: JobRequest) -> Outcome:
        return self._new_builds_at_revision(job, " pgo-build$")

    def _new_nightly_at_revision(self, job: JobRequest) -> Outcome:
        return self._new_builds_at_revision(job, " nightly$", exclude="l10n")

    def _new_builds_at_revision(
        self, job: JobRequest, pattern: str, exclude: str | None = None
    ) -> Outcome:
        name, revision = job.args["branch"], job.args["revision"]
        branch = self._target(name, revision)
        if isinstance(branch, Outcome):
            return self.ledger.answer(job, branch)
        builders = sorted(
            builder
            for builder in self.layout.builders_for_branch(name)
            if re.search(pattern, builder) and not (exclude and re.search(exclude, builder))
        )
        if not builders:
            return self.ledger.answer(job, Outcome(False, "No builds to create"))
        return self.ledger.commit(
            job,
            lambda txn: self._create(
                txn, job, branch.repo_path, builders, properties={}, changeids=()
            ),
        )

    def _new_build_for_builder(self, job: JobRequest) -> Outcome:
        """One request for one builder, on a sourcestamp of the short branch name and a change
        on `<branch>-selfserve`, so that no scheduler of the real branch fires."""
        name = job.args["branch"].removesuffix(SELFSERVE_SUFFIX)
        builder, files = job.args["builder_name"], job.args["files"]
        target = self._target(name, job.args["revision"])
        if isinstance(target, Outcome):
            return self.ledger.answer(job, target)
        if builder not in self.layout.builders:
            return self.ledger.answer(job, Outcome(True, f"Unknown builder {builder}"))
        if not all(isinstance(file, str) for file in files):
            return self.ledger.answer(job, Outcome(True, "files must be a list of file names"))
        user_properties = {
            key: (value, PROPERTY_SOURCE) for key, value in job.args["properties"].items()
        }

        def effect(txn: Txn) -> Outcome:
            change = NewChange(
                author=job.who,
                comments="",
                branch=name + SELFSERVE_SUFFIX,
                revision=job.args["revision"],
                when_timestamp=txn.now,
                files=tuple(files),
            )
            changeid = insert_change(txn.connection, change)
            return self._create(
                txn, job, name, [builder], properties=user_properties, changeids=[changeid]
            )

        return self.ledger.commit(job, effect)

    def _create(
        self,
        txn: Txn,
        job: JobRequest,
        sourcestamp_branch: str,
        builders: Sequence[str],
        *,
        properties: Mapping[str, tuple[Any, str]],
        changeids: Sequence[int],
    ) -> Outcome:
        """A sourcestamp, a buildset with a fresh buildid and builduid (the given properties
        override them) and one pending request per builder."""
        connection, now = txn.connection, txn.now
        ssid = insert_sourcestamp(connection, sourcestamp_branch, job.args["revision"], changeids)
        stamp = datetime.datetime.fromtimestamp(now, self.zone).strftime("%Y%m%d%H%M%S")
        generated = {
            "buildid": (stamp, PROPERTY_SOURCE),
            "builduid": (uuid.uuid4().hex, PROPERTY_SOURCE),
        }
        buildset = NewBuildset(
            reason=f"Self-serve: Requested by {job.who}",
            submitted_at=now,
            builders=builders,
            properties={**generated, **properties},
            sourcestampid=ssid,
            priority=job.args["priority"],
        )
        insert_buildset(connection, buildset)
        return OK


def _unavailable(exc: BaseException) -> bool:
    """The database is down or unreachable (as opposed to a bad statement or bad data)."""
    if isinstance(exc, OperationalError | DisconnectionError | PoolTimeout):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated
