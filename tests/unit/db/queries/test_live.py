"""Pushes per author, on a few hand-written changes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert

from buildapi.db.engines import Databases
from buildapi.db.queries.live import BranchFilter, push_counts
from buildapi.db.schema.scheduler import changes, sourcestamp_changes, sourcestamps
from buildapi.db.setup import init_databases


def change(changeid: int, author: str, branch: str | None) -> dict[str, Any]:
    return {
        "changeid": changeid,
        "author": author,
        "comments": "Bug 1 - a change",
        "branch": branch,
        "revision": f"{changeid:040x}",
        "when_timestamp": 1000 + changeid,
        "repository": "",
        "project": "",
    }


def populate(databases: Databases, rows: list[tuple[str, str | None]]) -> None:
    """One sourcestamp per (author, branch) row, carrying one change on that branch."""
    init_databases(databases)
    with databases.schedulerdb.begin() as connection:
        for number, (author, branch) in enumerate(rows, start=1):
            connection.execute(insert(changes).values(change(number, author, branch)))
            connection.execute(
                insert(sourcestamps).values(
                    id=number, branch=branch, revision=f"{number:040x}", repository="", project=""
                )
            )
            connection.execute(
                insert(sourcestamp_changes).values(sourcestampid=number, changeid=number)
            )


def test_test_runs_sent_as_changes_are_not_pushes(databases: Databases) -> None:
    populate(
        databases,
        [
            ("alice@example.org", "mozilla-central"),
            ("alice@example.org", "mozilla-central"),
            ("bob@example.org", None),
            ("sendchange-unittest", "mozilla-central-linux-unittest"),
            ("sendchange", "mozilla-central-linux-talos"),
        ],
    )
    with databases.schedulerdb.connect() as connection:
        everywhere = push_counts(connection, None, 0, None)
        central = push_counts(
            connection, BranchFilter("mozilla-central", "mozilla-central"), 0, None
        )
    assert everywhere == {"alice@example.org": 2, "bob@example.org": 1}
    assert central == {"alice@example.org": 2}
