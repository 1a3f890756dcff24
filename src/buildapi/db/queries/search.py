"""Pushes found by revision prefix or by author across every branch, for the search page."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, select

from buildapi.db.queries.live import revision_prefix
from buildapi.db.schema.scheduler import changes


@dataclass(frozen=True)
class FoundPush:
    repository: str  # the branch as changes name it: a short name or a repository path
    revision: str
    author: str
    comments: str
    when: int


def pushes_by_revision(connection: Connection, prefix: str, limit: int) -> list[FoundPush]:
    """Pushes whose revision starts with a lower-case hex `prefix`, newest first."""
    return _pushes(connection, revision_prefix(changes.c.revision, prefix), limit)


def pushes_by_author(connection: Connection, prefix: str, limit: int) -> list[FoundPush]:
    """Pushes whose author starts with `prefix` (the range reads the author index), newest
    first."""
    return _pushes(connection, revision_prefix(changes.c.author, prefix), limit)


def _pushes(connection: Connection, match: ColumnElement[bool], limit: int) -> list[FoundPush]:
    query = (
        select(
            changes.c.branch,
            changes.c.revision,
            changes.c.author,
            changes.c.comments,
            changes.c.when_timestamp,
        )
        .where(match)
        .order_by(changes.c.when_timestamp.desc(), changes.c.changeid.desc())
        .limit(limit)
    )
    return [
        FoundPush(branch or "", revision or "", author, comments, int(when))
        for branch, revision, author, comments, when in connection.execute(query)
    ]
