"""The grid's two statements, on each engine: a page of pushes by tip change, and the jobs
of their revisions with builds outer-joined."""

from __future__ import annotations

from sqlalchemy import insert

from buildapi.db.engines import Databases
from buildapi.db.queries.grid import grid_rows, push_rows
from buildapi.db.queries.live import BranchFilter
from buildapi.db.schema.scheduler import (
    buildrequests,
    builds,
    buildsets,
    changes,
    sourcestamp_changes,
    sourcestamps,
)
from buildapi.db.setup import init_databases

INBOUND = BranchFilter("mozilla-inbound", "integration/mozilla-inbound")


def revision(number: int) -> str:
    return f"{number:040x}"


def populate(databases: Databases) -> None:
    """Pushes 1-4 on inbound (3 never built: no sourcestamp), push 5 on another branch; push
    2 holds two changes. Push 4 has a pending request, a build merging two requests, a
    retried build, and a build of push 2's revision."""
    init_databases(databases)
    with databases.schedulerdb.begin() as connection:
        pushes = [(1, "integration/mozilla-inbound"), (2, "integration/mozilla-inbound"),
                  (3, "integration/mozilla-inbound"), (4, "integration/mozilla-inbound"),
                  (5, "projects/ash")]  # fmt: skip
        changeid = 0
        for number, branch in pushes:
            tips = [number * 10 + 1] + ([number * 10 + 2] if number == 2 else [])
            for changeid in tips:
                connection.execute(
                    insert(changes).values(
                        changeid=changeid, author=f"dev{number}@example.org",
                        comments=f"change {changeid}", branch=branch,
                        revision=revision(number) if changeid == tips[-1] else revision(changeid),
                        when_timestamp=1000 + changeid, repository="", project="",
                    )
                )  # fmt: skip
            if number == 3:
                continue
            connection.execute(
                insert(sourcestamps).values(
                    id=number, branch=branch, revision=revision(number), repository="", project=""
                )
            )
            connection.execute(
                insert(sourcestamp_changes),
                [{"sourcestampid": number, "changeid": c} for c in tips],
            )
            connection.execute(
                insert(buildsets).values(id=number, sourcestampid=number, submitted_at=1000)
            )
        requests = [(1, 4, 0), (2, 4, 1100), (3, 4, 1100), (4, 4, 1100), (5, 2, 1100), (6, 5, 0)]
        connection.execute(
            insert(buildrequests),
            [{"id": i, "buildsetid": bs, "buildername": f"builder {i % 2}", "claimed_at": at,
              "claimed_by_name": "m1" if at else None, "submitted_at": 1000}
             for i, bs, at in requests],
        )  # fmt: skip
        connection.execute(
            insert(builds),
            [{"id": i, "number": n, "brid": brid, "start_time": start, "finish_time": end}
             for i, n, brid, start, end in [(1, 7, 2, 1101, None), (2, 7, 3, 1102, None),
                                            (3, 8, 4, 1103, 1150), (4, 9, 4, 1160, None),
                                            (5, 3, 5, 1104, None)]],
        )  # fmt: skip


def test_pushes_newest_first_by_tip_change_paged_and_by_author(engine_databases) -> None:  # type: ignore[no-untyped-def]
    populate(engine_databases)
    with engine_databases.schedulerdb.connect() as connection:
        first = push_rows(connection, INBOUND, 2)
        second = push_rows(connection, INBOUND, 2, before=first[-1].push_id)
        dev2 = push_rows(connection, INBOUND, 10, author="dev2@")
    assert [(p.push_id, p.revision) for p in first] == [(41, revision(4)), (22, revision(2))]
    assert first[1].comments == "change 22" and first[1].pushed_at == 1022
    assert [p.push_id for p in second] == [11]
    assert [p.push_id for p in dev2] == [22]


def test_jobs_of_the_pages_revisions(engine_databases) -> None:  # type: ignore[no-untyped-def]
    populate(engine_databases)
    with engine_databases.schedulerdb.connect() as connection:
        rows = grid_rows(connection, INBOUND, [revision(4), revision(2)])
        none = grid_rows(connection, INBOUND, [])
    assert none == []
    assert [(r.request.id, r.build_id, r.retried, r.ran_on) for r in rows] == [
        (1, None, False, None),
        (2, 1, False, "m1"),
        (3, 2, False, "m1"),
        (4, 3, True, None),
        (4, 4, False, "m1"),
        (5, 5, False, "m1"),
    ]
    assert rows[3].finish_time == 1150 and rows[0].request.revision == revision(4)
