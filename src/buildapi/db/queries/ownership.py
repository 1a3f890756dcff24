"""What tells whose a build request is: its buildset's reason and its changes' authors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, select

from buildapi.db.queries.actions import incomplete_requests_of_revision
from buildapi.db.queries.live import BranchFilter
from buildapi.db.schema.scheduler import buildrequests, buildsets, changes, sourcestamp_changes


@dataclass(frozen=True)
class RequestOrigin:
    """A request's buildset reason and the authors of the changes of its sourcestamp."""

    request_id: int
    reason: str | None
    authors: tuple[str, ...]


def _origins(connection: Connection, where: ColumnElement[bool]) -> list[RequestOrigin]:
    query = (
        select(buildrequests.c.id, buildsets.c.reason, changes.c.author)
        .join(buildsets, buildsets.c.id == buildrequests.c.buildsetid)
        .outerjoin(
            sourcestamp_changes,
            sourcestamp_changes.c.sourcestampid == buildsets.c.sourcestampid,
        )
        .outerjoin(changes, changes.c.changeid == sourcestamp_changes.c.changeid)
        .where(where)
        .order_by(buildrequests.c.id)
    )
    reasons: dict[int, str | None] = {}
    authors: dict[int, list[str]] = {}
    for request_id, reason, author in connection.execute(query).all():
        reasons[request_id] = reason
        found = authors.setdefault(request_id, [])
        if author and author not in found:
            found.append(author)
    return [RequestOrigin(rid, reasons[rid], tuple(authors[rid])) for rid in reasons]


def origin_of_request(connection: Connection, request_id: int) -> RequestOrigin | None:
    found = _origins(connection, buildrequests.c.id == request_id)
    return found[0] if found else None


def origins_of_requests(connection: Connection, request_ids: Sequence[int]) -> list[RequestOrigin]:
    """Several at once, in id order; ids that name no request are left out."""
    if not request_ids:
        return []
    return _origins(connection, buildrequests.c.id.in_(sorted(set(request_ids))))


def incomplete_origins_of_revision(
    connection: Connection, branch: BranchFilter, revision: str
) -> list[RequestOrigin]:
    """The requests a cancel of `revision` would cancel (the agent's own query), with origins."""
    return origins_of_requests(
        connection, incomplete_requests_of_revision(connection, branch, revision)
    )
