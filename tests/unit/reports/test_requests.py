"""Status rules, run counters and end-to-end arithmetic on a small dataset with known times."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Connection, insert, update

from buildapi.db.engines import Databases
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
from buildapi.errors import NotFound
from buildapi.reports.requests import BuildRequest, Status
from buildapi.reports.runs import build_run, end_to_end, try_chooser
from buildapi.reports.window import Window

REV = "ab" * 20
OTHER = "cd" * 20
BRANCH = BranchFilter("mozilla-central", "mozilla-central")
# (id, buildset, complete, complete_at, claimed_at, results, build (start, finish) or None)
REQUESTS = [
    (1, 1, 1, 1500, 1100, 0, (1100, 1500)),  # complete
    (2, 1, 0, None, 1200, None, (1200, None)),  # running
    (3, 2, 0, None, None, None, None),  # pending
    (4, 3, 1, 1300, None, 6, None),  # cancelled
    (5, 1, 1, 1400, 1150, 5, (1150, None)),  # interrupted: lost slave
    (6, 1, 1, 1600, 1300, 2, None),  # misc: claimed, done, never built
    (7, 4, 1, 1700, 1100, 0, (1100, 1700)),  # another branch sharing the prefix
]


def name(branch: str | None) -> str | None:
    return branch


def populate(connection: Connection) -> None:
    connection.execute(
        insert(changes),
        [
            change(1, REV, 1000, "try: -b o -p all"),
            change(2, REV, 1050, "follow-up, not scheduled yet"),
            change(3, OTHER, 1000, "elsewhere"),
        ],
    )
    connection.execute(
        insert(sourcestamps),
        [
            {"id": 1, "branch": "mozilla-central", "revision": REV},
            {"id": 2, "branch": "mozilla-central-fork", "revision": OTHER},
        ],
    )
    connection.execute(
        insert(sourcestamp_changes),
        [{"sourcestampid": 1, "changeid": 1}, {"sourcestampid": 2, "changeid": 3}],
    )
    connection.execute(
        insert(buildsets),
        [
            {"id": 1, "sourcestampid": 1, "submitted_at": 1010, "reason": "scheduler"},
            {"id": 2, "sourcestampid": 1, "submitted_at": 1020, "reason": None},
            {
                "id": 3,
                "sourcestampid": 1,
                "submitted_at": 1030,
                "reason": "The web-page 'rebuild' button was pressed by bob@example.org",
            },
            {"id": 4, "sourcestampid": 2, "submitted_at": 1010, "reason": "scheduler"},
        ],
    )
    for brid, bsid, complete, complete_at, claimed_at, results, build in REQUESTS:
        connection.execute(
            insert(buildrequests).values(
                id=brid,
                buildsetid=bsid,
                buildername=f"Linux mozilla-central build {brid}",
                priority=0,
                claimed_at=claimed_at or 0,
                claimed_by_name="master" if claimed_at else None,
                complete=complete,
                results=results,
                submitted_at=1010,
                complete_at=complete_at,
            )
        )
        if build:
            connection.execute(
                insert(builds).values(
                    id=brid, number=brid, brid=brid, start_time=build[0], finish_time=build[1]
                )
            )


def change(changeid: int, revision: str, when: int, comments: str) -> dict[str, Any]:
    return {
        "changeid": changeid,
        "author": "alice@example.org",
        "comments": comments,
        "branch": "mozilla-central" if revision == REV else "mozilla-central-fork",
        "revision": revision,
        "when_timestamp": when,
        "revlink": f"https://hg.mozilla.org/mozilla-central/rev/{revision}",
        "repository": "",
        "project": "",
    }


@pytest.fixture
def connection(engine_databases: Databases):  # type: ignore[no-untyped-def]
    init_databases(engine_databases)
    with engine_databases.schedulerdb.begin() as connection:
        populate(connection)
    with engine_databases.schedulerdb.connect() as connection:
        yield connection


def test_build_run_counts_every_status(connection: Connection) -> None:
    run = build_run(connection, BRANCH, REV[:12], name)
    statuses = {r["brid"]: r["status"] for r in run["build_requests"]}
    assert statuses == {
        1: Status.COMPLETE,
        2: Status.RUNNING,
        3: Status.PENDING,
        4: Status.CANCELLED,
        5: Status.INTERRUPTED,
        6: Status.MISC,
    }
    counts = {key: run[key] for key in ("complete", "running", "pending", "cancelled")}
    assert counts == {"complete": 1, "running": 1, "pending": 1, "cancelled": 1}
    assert (run["interrupted"], run["misc"], run["rebuilds"], run["forcebuilds"]) == (1, 1, 1, 0)
    assert run["revision"] == REV and run["total_build_requests"] == 6
    assert (run["lst_change_time"], run["gst_finish_time"], run["duration"]) == (1000, 1500, 600)
    assert (run["results"], run["results_str"], run["is_complete"]) == (6, "cancelled", "no")
    assert [change["changeid"] for change in run["pending_changes"]] == [2]
    assert (run["success"], run["failure"], run["other"]) == (1, 2, 3)
    first = run["build_requests"][0]
    assert (first["duration"], first["wait_time"], first["run_time"]) == (0, 0, 0)
    complete = next(r for r in run["build_requests"] if r["brid"] == 1)
    assert (complete["duration"], complete["wait_time"], complete["run_time"]) == (500, 100, 400)
    assert complete["changeid"] == [1] and complete["authors"] == ["alice@example.org"]


def test_unknown_revision_is_not_found(connection: Connection) -> None:
    with pytest.raises(NotFound):
        build_run(connection, BRANCH, "0" * 12, name)


def test_end_to_end_totals(connection: Connection) -> None:
    report = end_to_end(connection, BRANCH, Window(900, 2000, 100), name)
    assert list(report["build_runs"]) == [REV], "the fork's prefix-sharing branch stays out"
    assert (report["total_build_requests"], report["total_build_runs"]) == (6, 1)
    assert report["avg_duration"] == 600
    assert [(c["changeid"], c["ss_revision"]) for c in report["pending_changes"]] == [(2, REV)]


def test_try_chooser(connection: Connection) -> None:
    report = try_chooser(connection, BRANCH, Window(900, 2000, 100), name)
    run = report["build_runs"][REV]
    assert run["used_trychooser"] is True
    assert run["uses_try_chooser"] == {"alice@example.org": True}
    assert report["authors_used"] == ["alice@example.org"] and report["build_runs_used"] == 1


def test_status_treats_zero_as_unset() -> None:
    request = BuildRequest(
        brid=1,
        bid=None,
        number=None,
        buildsetid=1,
        buildername="b",
        branch=None,
        branch_name=None,
        ssid=1,
        revision=None,
        submitted_at=10,
        claimed_at=0,
        start_time=None,
        complete_at=0,
        finish_time=None,
        claimed_by_name=None,
        complete=0,
        reason=None,
        results=-1,
    )
    assert request.status == Status.PENDING and request.duration == 0


def test_values_are_legacy_ones_for_a_request_without_a_change_or_result(
    connection: Connection,
) -> None:
    """Legacy's outer join gives a request with no change `changeid: [null]` and `comments:
    null`; its status names are upper case, no result is `-`, no finished build is 0."""
    lonely = "ef" * 20
    with connection.begin():
        connection.execute(
            insert(sourcestamps).values(id=3, branch="mozilla-central", revision=lonely)
        )
        connection.execute(
            insert(buildsets).values(id=5, sourcestampid=3, submitted_at=1010, reason="forced")
        )
        connection.execute(
            insert(buildrequests).values(
                id=8,
                buildsetid=5,
                buildername="Linux mozilla-central build 8",
                priority=0,
                claimed_at=0,
                complete=0,
                submitted_at=1010,
            )
        )
    run = build_run(connection, BRANCH, lonely[:12], name)
    (request,) = run["build_requests"]
    assert (request["changeid"], request["comments"]) == ([None], None)
    assert (request["status_str"], request["results_str"]) == ("PENDING", "-")
    assert (run["results_str"], run["gst_finish_time"]) == ("-", 0)
    with_changes = build_run(connection, BRANCH, REV[:12], name)
    assert {r["status_str"] for r in with_changes["build_requests"]} == {
        "COMPLETE",
        "RUNNING",
        "PENDING",
        "CANCELLED",
        "INTERRUPTED",
        "MISC",
    }
    assert all(r["changeid"] == [1] for r in with_changes["build_requests"])


def test_a_request_still_running_has_no_run_time_yet(connection: Connection) -> None:
    run = build_run(connection, BRANCH, REV[:12], name)
    times = {
        r["brid"]: (r["wait_time"], r["run_time"], r["duration"]) for r in run["build_requests"]
    }
    assert times[2] == (200, 0, 0)  # running: started 200 s after the push, not finished
    assert times[1] == (100, 400, 500)  # complete: wait + run = duration
    assert all(run_time >= 0 for _wait, run_time, _duration in times.values())


@pytest.mark.parametrize(
    ("buildername", "branch", "kind"),
    [
        ("Linux mozilla-central build", "mozilla-central", "builds"),
        ("Ubuntu VM 12.04 mozilla-central opt test mochitest-1", "mozilla-central", "unittests"),
        ("Ubuntu HW 12.04 mozilla-central talos tp5o", "mozilla-central", "talos"),
        # a sendchange's branch, as legacy farms triggered tests
        ("Linux mozilla-central build", "mozilla-central-linux-opt-unittest", "unittests"),
        ("Linux mozilla-central build", "mozilla-central-linux-talos", "talos"),
    ],
)
def test_a_runs_tests_count_as_tests(
    connection: Connection, buildername: str, branch: str, kind: str
) -> None:
    """Tests triggered on their build's sourcestamp count as unittests or talos, not builds."""
    with connection.begin():
        connection.execute(update(sourcestamps).where(sourcestamps.c.id == 1).values(branch=branch))
        connection.execute(update(buildrequests).values(buildername=buildername))
    run = build_run(connection, BRANCH, REV[:12], name)
    counted = {key: run[key] for key in ("builds", "unittests", "talos")}
    assert counted == {key: (len(run["build_requests"]) if key == kind else 0) for key in counted}
