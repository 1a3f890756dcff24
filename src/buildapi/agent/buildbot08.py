"""The farm operations of a Buildbot 0.8 farm: its scheduler database, written on the ledger's
own connection (the done-markers live in the same database, so every effect commits with its
marker), and its masters' web interface and clobberer over HTTP."""

from __future__ import annotations

import contextlib
import datetime
import logging
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from buildapi.agent.backend import FarmError, RunningBuild
from buildapi.agent.ledger import Txn
from buildapi.agent.masters import MasterError, MastersClient
from buildapi.db.queries import actions as queries
from buildapi.db.queries.actions import BuildEnd, BuildState, RequestState
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

log = logging.getLogger(__name__)

PROPERTY_SOURCE = "self-serve"
# A slave is clobbered before its build is stopped, unless the builder name has one of these.
NO_CLOBBER = ("nightly", " try ", "_try_", "talos", "pgo test", "opt test", "debug test")
UTC = ZoneInfo("UTC")


class Buildbot08Backend:
    """The Backend of a Buildbot 0.8 farm. `zone` is the time zone of the `buildid` property
    of new builds (Mozilla's masters used Pacific time; pass the configured zone)."""

    def __init__(self, layout: FarmLayout, masters: MastersClient, *, zone: ZoneInfo = UTC) -> None:
        self.layout = layout
        self.masters = masters
        self.zone = zone

    # -- the scheduler database, in the ledger's transaction ------------------------------------

    def request_state(self, txn: Txn, brid: int) -> RequestState | None:
        return queries.request_state(txn.connection, brid)

    def build_state(self, txn: Txn, bid: int) -> BuildState | None:
        return queries.build_state(txn.connection, bid)

    def set_priority_if_pending(self, txn: Txn, brid: int, priority: int) -> bool:
        return queries.set_priority_if_pending(txn.connection, brid, priority)

    def cancel_if_pending(self, txn: Txn, brid: int) -> bool:
        return queries.cancel_if_pending(txn.connection, brid, txn.now)

    def complete_buildsets(self, txn: Txn, brids: Sequence[int]) -> None:
        """Masters complete a buildset when its last request finishes; a cancel does it here."""
        bsids = request_buildsets(txn.connection, brids).values()
        complete_buildsets(txn.connection, list(bsids), txn.now)

    def incomplete_requests_at(
        self, txn: Txn, name: str, branch: Branch, revision: str
    ) -> list[int]:
        matching = BranchFilter(name, branch.repo_path)
        return queries.incomplete_requests_of_revision(txn.connection, matching, revision.lower())

    def live_build_number(self, txn: Txn, brid: int) -> int | None:
        return queries.live_build_number(txn.connection, brid)

    def build_end(self, txn: Txn, brid: int, number: int) -> BuildEnd | None:
        return queries.build_end(txn.connection, brid, number)

    def running_builds_of_cancelled(self, txn: Txn) -> list[tuple[RequestState, int]]:
        return queries.running_builds_of_cancelled(txn.connection)

    def copy_buildset(
        self, txn: Txn, request: RequestState, *, count: int, priority: int, reason: str
    ) -> None:
        """Every property is copied, buildid and builduid too."""
        buildset = NewBuildset(
            reason=reason,
            submitted_at=txn.now,
            builders=[request.buildername],
            properties=buildset_properties_of(txn.connection, request.buildsetid),
            sourcestampid=request.sourcestampid,
            priority=priority,
            external_idstring=request.external_idstring,
        )
        for _ in range(count):
            insert_buildset(txn.connection, buildset)

    def create_buildset(
        self,
        txn: Txn,
        *,
        branch: str,
        revision: str,
        builders: Sequence[str],
        priority: int,
        reason: str,
        properties: Mapping[str, Any],
        changeids: Sequence[int],
    ) -> None:
        ssid = insert_sourcestamp(txn.connection, branch, revision, changeids)
        stamp = datetime.datetime.fromtimestamp(txn.now, self.zone).strftime("%Y%m%d%H%M%S")
        generated = {"buildid": stamp, "builduid": uuid.uuid4().hex}
        buildset = NewBuildset(
            reason=reason,
            submitted_at=txn.now,
            builders=builders,
            properties={
                name: (value, PROPERTY_SOURCE)
                for name, value in {**generated, **properties}.items()
            },
            sourcestampid=ssid,
            priority=priority,
        )
        insert_buildset(txn.connection, buildset)

    def add_change(
        self, txn: Txn, *, branch: str, revision: str, who: str, files: Sequence[str]
    ) -> int:
        change = NewChange(
            author=who,
            comments="",
            branch=branch,
            revision=revision,
            when_timestamp=txn.now,
            files=tuple(files),
        )
        return insert_change(txn.connection, change)

    # -- the masters, outside any transaction ---------------------------------------------------

    def claiming_master(self, request: RequestState) -> Master:
        if not request.claimed_at or not request.claimed_by_name:
            raise FarmError(f"request {request.id} is not claimed by any master")
        master = self.layout.master_by_db_name(request.claimed_by_name)
        if master is None:
            raise FarmError(f"no master {request.claimed_by_name!r} in the farm layout")
        return master

    def stop_build(self, build: RunningBuild, who: str, comments: str) -> None:
        """A failed clobber stops nothing."""
        with _as_farm_error():
            if not any(word in build.buildername for word in NO_CLOBBER):
                self._clobber(build)
            self.masters.stop_build(build.master, build.buildername, build.number, who, comments)

    def _clobber(self, build: RunningBuild) -> None:
        """Have the clobberer wipe the build's directory on the slave named on its page."""
        slave = self.masters.slave_of_build(build.master, build.buildername, build.number)
        if slave is None:
            log.warning(
                "build %d of %r names no slave; not clobbering", build.number, build.buildername
            )
            return
        self.masters.clobber(slave, build.buildername)

    def change_master(self, name: str) -> Master | None:
        """The first enabled master of the branch's pool (try masters for try, build masters
        otherwise), else any enabled build or try master: each shares the scheduler database,
        so any of them hands the change to the schedulers."""
        role = "try" if name == "try" else "build"
        enabled = [master for master in self.layout.masters if master.enabled]
        preferred = [master for master in enabled if master.role == role]
        fallback = [master for master in enabled if master.role in ("build", "try")]
        return next(iter(preferred or fallback), None)

    def send_change(
        self, master: Master, branch: Branch, *, revision: str, who: str, comments: str
    ) -> None:
        with _as_farm_error():
            self.masters.send_change(
                master,
                branch=branch.repo_path,
                revision=revision,
                revlink=f"{branch.repo}/rev/{revision}",
                repository=branch.repo,
                who=who,
                comments=comments,
            )


@contextlib.contextmanager
def _as_farm_error() -> Iterator[None]:
    try:
        yield
    except MasterError as exc:
        raise FarmError(str(exc)) from exc
