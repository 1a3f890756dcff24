"""Changes (pushed changesets) and their files in the scheduler database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, func, insert, select

from buildapi.db.schema.scheduler import change_files, changes, sourcestamp_changes


@dataclass(frozen=True)
class Change:
    changeid: int
    author: str
    comments: str
    branch: str | None
    revision: str | None
    when_timestamp: float  # float seconds on SQLite, as masters write them


@dataclass(frozen=True)
class NewChange:
    author: str
    comments: str
    branch: str
    revision: str
    when_timestamp: float
    revlink: str | None = None
    repository: str = ""
    project: str = ""
    category: str | None = None
    files: Sequence[str] = ()


# A Change's fields, in its order.
CHANGE_COLUMNS = (
    changes.c.changeid,
    changes.c.author,
    changes.c.comments,
    changes.c.branch,
    changes.c.revision,
    changes.c.when_timestamp,
)


def insert_change(connection: Connection, change: NewChange) -> int:
    changeid = connection.execute(
        insert(changes).values(
            author=change.author,
            comments=change.comments,
            is_dir=0,
            branch=change.branch,
            revision=change.revision,
            revlink=change.revlink,
            when_timestamp=change.when_timestamp,
            category=change.category,
            repository=change.repository,
            project=change.project,
        )
    ).inserted_primary_key[0]
    if change.files:
        connection.execute(
            insert(change_files), [{"changeid": changeid, "filename": f} for f in change.files]
        )
    return int(changeid)


def changes_after(connection: Connection, changeid: int) -> list[Change]:
    """Changes newer than `changeid`, oldest first."""
    rows = connection.execute(
        select(*CHANGE_COLUMNS).where(changes.c.changeid > changeid).order_by(changes.c.changeid)
    )
    return [Change(*row) for row in rows]


def last_changeid(connection: Connection) -> int:
    return int(connection.execute(select(func.coalesce(func.max(changes.c.changeid), 0))).scalar())


def latest_revision(connection: Connection, branch: str) -> str | None:
    """The revision of the newest change on `branch` (a repo path)."""
    return connection.execute(
        select(changes.c.revision)
        .where(changes.c.branch == branch)
        .order_by(changes.c.changeid.desc())
        .limit(1)
    ).scalar()


def comments_of_sourcestamp(connection: Connection, sourcestampid: int) -> list[str]:
    rows = connection.execute(
        select(changes.c.comments)
        .join(sourcestamp_changes, sourcestamp_changes.c.changeid == changes.c.changeid)
        .where(sourcestamp_changes.c.sourcestampid == sourcestampid)
        .order_by(changes.c.changeid)
    )
    return [row[0] for row in rows]


def tip_change(connection: Connection, sourcestampid: int) -> Change | None:
    """The newest change of a sourcestamp: the tip of the push it is of, whose author is the
    pusher. None for a sourcestamp without changes (a nightly's or a PGO build's)."""
    row = connection.execute(
        select(*CHANGE_COLUMNS)
        .join(sourcestamp_changes, sourcestamp_changes.c.changeid == changes.c.changeid)
        .where(sourcestamp_changes.c.sourcestampid == sourcestampid)
        .order_by(changes.c.changeid.desc())
        .limit(1)
    ).first()
    return Change(*row) if row else None
