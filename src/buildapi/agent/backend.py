"""The farm operations that the actions need. A backend fills them for one kind of farm: today
Buildbot 0.8 (buildbot08.py: its scheduler database and its masters' web interface); a Buildbot
4 backend would fill them with its REST API. The `agent_backend` setting picks one.

Operations that take a Txn run inside the ledger's transaction. A farm whose database holds the
done-markers writes through `txn.connection`, so the effect commits or rolls back with the
marker; a farm reached otherwise acts at once. Operations without a Txn find or call masters;
the calls run outside any transaction (ledger.py says why).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from buildapi.agent.ledger import Txn
from buildapi.db.queries.actions import BuildEnd, BuildState, RequestState
from buildapi.layout import Branch, Master


class FarmError(Exception):
    """The farm could not do what was asked; the message says why, in one line."""


@dataclass(frozen=True)
class RunningBuild:
    """A build to stop: the master running it, its builder and its number there."""

    master: Master
    buildername: str
    number: int


class Backend(Protocol):
    """What an action may ask of a farm."""

    def request_state(self, txn: Txn, brid: int) -> RequestState | None:
        """Request `brid` with the source of its buildset, or None."""
        ...

    def build_state(self, txn: Txn, bid: int) -> BuildState | None:
        """Build `bid` with its request, or None."""
        ...

    def set_priority_if_pending(self, txn: Txn, brid: int, priority: int) -> bool:
        """Set the priority of `brid` unless a master has claimed it or it is complete."""
        ...

    def cancel_if_pending(self, txn: Txn, brid: int) -> bool:
        """Complete `brid` as cancelled unless a master has claimed it or it is complete."""
        ...

    def complete_buildsets(self, txn: Txn, brids: Sequence[int]) -> None:
        """Complete the buildsets of these requests whose requests are all complete now."""
        ...

    def incomplete_requests_at(
        self, txn: Txn, name: str, branch: Branch, revision: str
    ) -> list[int]:
        """The incomplete requests whose revision starts with `revision` (hex, any case) on the
        branch `name`, oldest first."""
        ...

    def live_build_number(self, txn: Txn, brid: int) -> int | None:
        """The number of the build running `brid` now, or None."""
        ...

    def build_end(self, txn: Txn, brid: int, number: int) -> BuildEnd | None:
        """How build `number` of request `brid` ended, or None while it runs."""
        ...

    def running_builds_of_cancelled(self, txn: Txn) -> list[tuple[RequestState, int]]:
        """Builds running for requests self-serve cancelled, which a master claimed anyway,
        with their numbers."""
        ...

    def copy_buildset(
        self, txn: Txn, request: RequestState, *, count: int, priority: int, reason: str
    ) -> None:
        """`count` new buildsets of the request's source, each with a copy of every property
        of its buildset and one pending request for its builder."""
        ...

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
        """A buildset at `revision` of `branch` with one pending request per builder, a fresh
        buildid and builduid, and the given properties over them."""
        ...

    def add_change(
        self, txn: Txn, *, branch: str, revision: str, who: str, files: Sequence[str]
    ) -> int:
        """Record a change by `who` for a new sourcestamp to link to, without sending it to any
        master; its id."""
        ...

    def claiming_master(self, request: RequestState) -> Master:
        """The master that claimed `request`; FarmError if none or unknown."""
        ...

    def stop_build(self, build: RunningBuild, who: str, comments: str) -> None:
        """Ask `build`'s master to stop it, clobbering its slave first where its builder needs
        that. The master taking the request does not mean the build was still running (see
        stopping.py). FarmError when the master or clobberer fails."""
        ...

    def change_master(self, name: str) -> Master | None:
        """The master that takes changes for branch `name`, or None."""
        ...

    def send_change(
        self, master: Master, branch: Branch, *, revision: str, who: str, comments: str
    ) -> None:
        """Hand `master` a change at `revision`, which its schedulers treat as a push;
        FarmError when it does not take it."""
        ...
