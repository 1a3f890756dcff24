"""Who may act on whose build requests, and how high a priority they may set: the policy_*
keys of Settings applied to who made a request (docs/security.md)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from buildapi.config import ANY, Settings
from buildapi.db.queries.live import BranchFilter
from buildapi.db.queries.ownership import (
    RequestOrigin,
    incomplete_origins_of_revision,
    origin_of_request,
)
from buildapi.errors import Forbidden
from buildapi.selfserve.auth import Identity
from buildapi.vocabulary import REBUILT_BY, REQUESTED_BY

# The reasons the agent gives the buildsets it makes (selfserve/messages.py), and only those: any
# other reason is the scheduler's (or a master's) and names nobody we can trust.
SELFSERVE_REASON = re.compile(
    f"(?:{re.escape(REBUILT_BY)}|{re.escape(REQUESTED_BY)})" + r"(?P<who>\S(?:.*\S)?)"
)
ADDRESS = re.compile(r"<([^<>\s]+)>\s*$")


def made_by(reason: str | None) -> str | None:
    """The self-serve user a buildset reason names; None for every other reason."""
    found = SELFSERVE_REASON.fullmatch(reason or "")
    return found.group("who") if found else None


def _names(author: str) -> set[str]:
    """A change author as a user may be named: as is, or the address of "Name <address>"."""
    names = {author.strip().casefold()}
    address = ADDRESS.search(author)
    if address:
        names.add(address.group(1).casefold())
    return names


@dataclass(frozen=True)
class Ownership:
    """A self-serve request belongs to the user who made it; a scheduler-made one to the
    authors of its push."""

    made_by: str | None
    authors: tuple[str, ...]

    @classmethod
    def of(cls, origin: RequestOrigin) -> Ownership:
        user = made_by(origin.reason)
        return cls(user, () if user is not None else origin.authors)

    def belongs_to(self, user: str) -> bool:
        if self.made_by is not None:
            return self.made_by.casefold() == user.casefold()
        return any(user.casefold() in _names(author) for author in self.authors)

    def describe(self) -> str:
        """Whose the request is, to follow "request N" in a refusal."""
        if self.made_by is not None:
            return f" of {self.made_by}"
        pushed = f" for a push by {', '.join(self.authors)}" if self.authors else ""
        return f", made by the scheduler{pushed},"


def _entry(table: Mapping[str, list[str]], branch: str) -> list[str]:
    return table.get(branch, table.get(ANY, []))


def _listed(groups: Sequence[str]) -> str:
    return ", ".join(sorted(groups)) or "none"


@dataclass(frozen=True)
class Policy:
    act_on_others: Mapping[str, list[str]]
    act_on_scheduled: Mapping[str, list[str]]
    priority_ceiling: Mapping[str, int]

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        return cls(
            settings.policy_act_on_others,
            settings.policy_act_on_scheduled,
            settings.policy_priority_ceiling,
        )

    def groups_allowed(self, ownership: Ownership, branch: str) -> list[str]:
        """The groups that may act on `ownership`'s request without owning it."""
        table = self.act_on_others if ownership.made_by is not None else self.act_on_scheduled
        return _entry(table, branch)

    def may_act(self, who: Identity, ownership: Ownership, branch: str) -> bool:
        if ownership.belongs_to(who.user):
            return True
        groups = self.groups_allowed(ownership, branch)
        return ANY in groups or bool(who.groups & set(groups))

    def ceiling(self, who: Identity) -> int:
        """The highest ceiling of the user's listed groups, else the "*" one."""
        mine = [
            self.priority_ceiling[group] for group in who.groups if group in self.priority_ceiling
        ]
        return max(mine) if mine else self.priority_ceiling[ANY]

    def check_priority(self, who: Identity, priority: int) -> None:
        ceiling = self.ceiling(who)
        if priority > ceiling:
            raise Forbidden(
                f"{who.user} may not set priority {priority}: the highest they may set is {ceiling}"
            )

    def check_request(
        self, connection: Connection, who: Identity, verb: str, request_id: int, branch: str
    ) -> None:
        """Forbidden unless `who` may `verb` the request ("cancel", "cancel build 5 of")."""
        origin = origin_of_request(connection, request_id)
        if origin is None:
            return  # gone since it was found: the agent will say so
        ownership = Ownership.of(origin)
        if not self.may_act(who, ownership, branch):
            groups = _listed(self.groups_allowed(ownership, branch))
            raise Forbidden(
                f"{who.user} may not {verb} request {request_id}{ownership.describe()} on"
                f" {branch}; groups allowed: {groups}"
            )

    def check_revision(
        self, connection: Connection, who: Identity, branch: BranchFilter, revision: str
    ) -> None:
        """All or nothing: a cancel of a revision stops every incomplete request of it, so one
        request the user may not act on refuses the whole cancel."""
        origins = incomplete_origins_of_revision(connection, branch, revision)
        refused = [
            ownership
            for ownership in map(Ownership.of, origins)
            if not self.may_act(who, ownership, branch.name)
        ]
        if not refused:
            return
        allowed = set.intersection(*(set(self.groups_allowed(o, branch.name)) for o in refused))
        raise Forbidden(
            f"{who.user} may not cancel revision {revision} on {branch.name}: {len(refused)} of"
            f" its {len(origins)} incomplete requests are not theirs; groups allowed:"
            f" {_listed(allowed)}"
        )
