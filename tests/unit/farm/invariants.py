"""What must hold in the farm's databases at every moment, whatever happened before."""

from __future__ import annotations

import datetime
from collections import defaultdict

from sqlalchemy import text

from buildapi.db.engines import Databases
from buildapi.db.queries.status_dump import finished_builds
from buildapi.farm.farm import Farm
from buildapi.layout import FarmLayout
from buildapi.vocabulary import is_good


def rows(engine, sql: str) -> list:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        return list(connection.execute(text(sql)))


def check_all(farm: Farm) -> None:
    no_request_runs_twice(farm)
    merged_requests_share_number_not_start(farm)
    build_numbers_increase(farm)
    buildsets_complete_with_their_requests(farm)
    buildset_results_follow_their_requests(farm)
    statusdb_agrees(farm)
    retries_come_back(farm)
    idle_slaves_leave_nothing_claimable(farm)


def no_request_runs_twice(farm: Farm) -> None:
    live = rows(
        farm.databases.schedulerdb,
        "SELECT brid, COUNT(*) FROM builds WHERE finish_time IS NULL GROUP BY brid "
        "HAVING COUNT(*) > 1",
    )
    assert live == [], f"requests with two live builds: {live}"
    brids = [brid for build in farm.running.values() for brid in build.brids]
    assert len(brids) == len(set(brids))
    claimed = rows(
        farm.databases.schedulerdb,
        "SELECT id FROM buildrequests WHERE claimed_at > 0 AND complete = 0 ORDER BY id",
    )
    assert sorted(brids) == [row[0] for row in claimed]


def merged_requests_share_number_not_start(farm: Farm) -> None:
    """The builds rows of one build (one per merged request) have its number, and each its own
    float start time, a little after the one before, as each INSERT of a master has."""
    for build in farm.running.values():
        found = rows(
            farm.databases.schedulerdb,
            "SELECT number, start_time FROM builds WHERE id IN "
            f"({','.join(map(str, build.build_ids))}) ORDER BY id",
        )
        assert {number for number, _start in found} == {build.number}
        starts = [start for _number, start in found]
        assert starts == sorted(set(starts)), f"start times of {build.key}: {starts}"
        assert build.started < starts[0] and starts[-1] - starts[0] < 0.01 * len(starts)


def build_numbers_increase(farm: Farm) -> None:
    """Per master (by name, whatever port it listened on) and builder, each physical build has
    its own number, and numbers grow with start time: a restart or a retry never reuses one."""
    found = rows(
        farm.databases.statusdb,
        "SELECT m.name, bl.name, b.buildnumber, b.starttime FROM builds b "
        "JOIN builders bl ON bl.id = b.builder_id JOIN masters m ON m.id = b.master_id "
        "ORDER BY m.name, bl.name, b.id",
    )
    last: dict[tuple[str, str], tuple[int, object]] = {}
    for master, builder, number, start in found:
        key = (master, builder)
        if key in last:
            previous_number, previous_start = last[key]
            assert number > previous_number, f"{key}: {number} after {previous_number}"
            assert start >= previous_start
        last[key] = (number, start)


def buildsets_complete_with_their_requests(farm: Farm) -> None:
    wrong = rows(
        farm.databases.schedulerdb,
        "SELECT bs.id, bs.complete, MIN(br.complete) FROM buildsets bs "
        "JOIN buildrequests br ON br.buildsetid = bs.id GROUP BY bs.id, bs.complete "
        "HAVING bs.complete != MIN(br.complete)",
    )
    assert wrong == [], f"buildsets out of step with their requests: {wrong[:5]}"


def buildset_results_follow_their_requests(farm: Farm) -> None:
    """A complete buildset succeeded (0) when every request ended 0 or 1, else failed (2)."""
    wrong = rows(
        farm.databases.schedulerdb,
        "SELECT bs.id, bs.results, MAX(br.results) FROM buildsets bs "
        "JOIN buildrequests br ON br.buildsetid = bs.id WHERE bs.complete = 1 "
        "GROUP BY bs.id, bs.results "
        "HAVING bs.results != CASE WHEN MAX(br.results) <= 1 THEN 0 ELSE 2 END",
    )
    assert wrong == [], f"buildsets with the wrong results: {wrong[:5]}"


def statusdb_agrees(farm: Farm) -> None:
    status = {
        build_id: (number, endtime, result)
        for build_id, number, endtime, result in rows(
            farm.databases.statusdb, "SELECT id, buildnumber, endtime, result FROM builds"
        )
    }
    links = rows(
        farm.databases.statusdb,
        "SELECT status_build_id, scheduler_request_id, scheduler_build_id "
        "FROM schedulerdb_requests",
    )
    scheduler = {
        build_id: (number, finish, complete, results)
        for build_id, number, finish, complete, results in rows(
            farm.databases.schedulerdb,
            "SELECT b.id, b.number, b.finish_time, br.complete, br.results FROM builds b "
            "JOIN buildrequests br ON br.id = b.brid",
        )
    }
    assert len(links) == len(scheduler), "every schedulerdb build has one statusdb build"
    for status_id, _brid, build_id in links:
        number, endtime, result = status[status_id]
        s_number, finish, complete, results = scheduler[build_id]
        assert number == s_number
        assert (endtime is None) == (finish is None)
        if endtime is not None and result != 5 and complete:
            assert results == result, f"request result {results} vs build result {result}"


def retries_come_back(farm: Farm) -> None:
    """A request whose build was retried is pending, running again, or finished later."""
    retried = rows(
        farm.databases.statusdb,
        "SELECT l.scheduler_request_id FROM schedulerdb_requests l "
        "JOIN builds b ON b.id = l.status_build_id WHERE b.result = 5",
    )
    for (brid,) in retried:
        attempts = rows(
            farm.databases.schedulerdb,
            f"SELECT b.finish_time, br.complete, br.claimed_at FROM builds b "
            f"JOIN buildrequests br ON br.id = b.brid WHERE b.brid = {brid} ORDER BY b.id",
        )
        complete, claimed_at = attempts[-1][1], attempts[-1][2]
        if complete or claimed_at:
            assert len(attempts) >= 2, f"request {brid} ran again without a new builds row"


def idle_slaves_leave_nothing_claimable(farm: Farm) -> None:
    """After a step, no pending request waits for a pool that still has an idle slave."""
    pending = rows(
        farm.databases.schedulerdb,
        "SELECT id, buildername FROM buildrequests WHERE claimed_at = 0 AND complete = 0",
    )
    by_pool: dict[str, list[int]] = defaultdict(list)
    for brid, name in pending:
        builder = farm.layout.builders.get(name)
        if builder is not None and farm.routing.masters_for(name):
            by_pool[builder.slavepool].append(brid)
    for pool, brids in by_pool.items():
        assert farm.slaves.idle_count(pool) == 0, f"{pool} has idle slaves while {brids[:3]} wait"


def properties_agree(databases: Databases, layout: FarmLayout) -> None:
    """What consumers find in finished builds' properties: a good build's package with its
    tests beside it (mozci), the pusher on try builds (Treeherder), and on each test the
    package that its upstream build uploaded."""
    authors = dict(rows(databases.schedulerdb, "SELECT revision, author FROM changes"))
    ever = (datetime.datetime(1970, 1, 1), datetime.datetime(9999, 1, 1))
    kinds = {name: builder.kind for name, builder in layout.builders.items()}
    packages, tested = set(), set()
    for build in finished_builds(databases.statusdb, *ever):
        found = build.properties
        kind = kinds.get(found["buildername"], "idle")
        if kind in ("build", "nightly", "pgo") and is_good(build.result or 0):
            stem = found["testsUrl"].removesuffix(".tests.zip")
            assert found["packageUrl"].startswith(f"{stem}."), found["buildername"]
            assert found["testPackagesUrl"] == f"{stem}.test_packages.json"
            packages.add(found["packageUrl"])
        if kind == "build" and found["branch"] == "try":
            assert found["who"] == authors[found["revision"]], found["buildername"]
        else:
            assert "who" not in found, found["buildername"]
        if kind in ("test", "talos"):
            tested.add(found["build_url"])
    assert packages and tested, "too few builds to check"
    assert sorted(tested - packages) == [], "tests of builds that uploaded no such package"
