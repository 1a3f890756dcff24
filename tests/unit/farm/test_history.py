"""The history generator: a consistent past in both databases, near the requested size."""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from buildapi.clock import VirtualClock
from buildapi.config import Settings, load_settings
from buildapi.db.engines import Databases
from buildapi.db.queries import report_status
from buildapi.db.queries.buildsets import NewBuildset, insert_buildset, insert_sourcestamp
from buildapi.db.queries.status_builds import naive_utc
from buildapi.db.schema import scheduler as sched
from buildapi.db.schema import scheduler_metadata, status_metadata
from buildapi.db.schema import status as stat
from buildapi.db.setup import init_databases
from buildapi.farm.farm import Farm
from buildapi.farm.history import HistoryStats, write_history
from buildapi.farm.launch import with_free_ports
from buildapi.layout import FarmLayout, load_layout
from buildapi.layout.loader import example_location
from buildapi.vocabulary import Result
from tests.unit.farm.invariants import properties_agree

DAY = 86400
END = 1_700_000_000.0
DAYS, JOBS = 2, 600


@dataclass
class Written:
    databases: Databases
    stats: HistoryStats


def written_history(settings: Settings, days: float) -> Iterator[Written]:
    databases = Databases.from_settings(settings)
    init_databases(databases)
    stats = write_history(
        load_layout(settings),
        databases,
        days=days,
        jobs_per_day=JOBS,
        seed=7,
        end=END,
        zone=settings.zone,
    )
    yield Written(databases, stats)
    databases.dispose()


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Written]:
    """One small history shared by the read-only checks."""
    yield from written_history(load_settings(data_dir=tmp_path_factory.mktemp("history")), DAYS)


@pytest.fixture(scope="module")
def busy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Written]:
    """The same farm with two slaves per pool: queues grow, requests wait and merge."""
    directory = tmp_path_factory.mktemp("busy")
    pools = json.loads(Path(example_location("slaves.json")).read_text())
    (directory / "slaves.json").write_text(json.dumps({p: n[:2] for p, n in pools.items()}))
    settings = load_settings(data_dir=directory, slaves_url=str(directory / "slaves.json"))
    yield from written_history(settings, 1)


def rows(engine: Engine, query: Any) -> list[tuple]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(query)]


def scalar(engine: Engine, query: Any) -> Any:
    with engine.connect() as connection:
        return connection.execute(query).scalar()


def scheduler_builds(databases: Databases) -> list[tuple]:
    """(id, number, brid, start, finish, buildername, complete, claimed_at) per builds row."""
    r, b = sched.buildrequests, sched.builds
    query = (
        select(b.c.id, b.c.number, b.c.brid, b.c.start_time, b.c.finish_time)
        .add_columns(r.c.buildername, r.c.complete, r.c.claimed_at)
        .join(r, r.c.id == b.c.brid)
        .order_by(b.c.id)
    )
    return rows(databases.schedulerdb, query)


def status_links(databases: Databases) -> dict[int, tuple]:
    """schedulerdb build id -> (status build id, builder, number, start, end, result)."""
    link, b, builders = stat.schedulerdb_requests, stat.builds, stat.builders
    query = (
        select(link.c.scheduler_build_id, b.c.id, builders.c.name, b.c.buildnumber)
        .add_columns(b.c.starttime, b.c.endtime, b.c.result)
        .join(b, b.c.id == link.c.status_build_id)
        .join(builders, builders.c.id == b.c.builder_id)
    )
    found = rows(databases.statusdb, query)
    assert len(found) == len({row[0] for row in found}), "a builds row with two status builds"
    return {row[0]: row[1:] for row in found}


def by_key(found: list[tuple], key: int) -> dict[Any, list[tuple]]:
    grouped: dict[Any, list[tuple]] = defaultdict(list)
    for row in found:
        grouped[row[key]].append(row)
    return grouped


def assert_numbers_increase(databases: Databases) -> None:
    """Per master name and builder (whatever port the master had), numbers grow with time."""
    b, builders, masters = stat.builds, stat.builders, stat.masters
    query = (
        select(masters.c.name, builders.c.name, b.c.starttime, b.c.buildnumber)
        .join(builders, builders.c.id == b.c.builder_id)
        .join(masters, masters.c.id == b.c.master_id)
    )
    for builds in by_key(
        [((m, n), s, k) for m, n, s, k in rows(databases.statusdb, query)], 0
    ).values():
        numbers = [number for _key, _start, number in sorted(builds)]
        assert numbers == sorted(set(numbers)), "numbers repeat or go back in time"


def test_request_count_is_near_the_target(history: Written) -> None:
    count = scalar(
        history.databases.schedulerdb, select(func.count()).select_from(sched.buildrequests)
    )
    assert count == history.stats.requests
    assert 0.9 * DAYS * JOBS <= count <= 1.1 * DAYS * JOBS
    assert history.stats.pushes > 0
    assert history.stats.rows > 10 * count


def test_requests_end_complete_running_or_pending(history: Written) -> None:
    r = sched.buildrequests
    query = select(r.c.id, r.c.complete, r.c.claimed_at, r.c.claimed_by_name, r.c.submitted_at)
    query = query.add_columns(r.c.complete_at, r.c.results)
    attempts = by_key(scheduler_builds(history.databases), 2)
    states = set()
    for brid, complete, claimed_at, master, submitted, complete_at, results in rows(
        history.databases.schedulerdb, query
    ):
        tries = sorted(attempts[brid], key=lambda row: row[3])
        assert all(row[3] >= submitted for row in tries)
        if complete:
            assert complete_at >= submitted and results is not None and master
            assert tries and tries[-1][4] == complete_at, "complete requests ran"
            states.add("complete")
        elif claimed_at:
            assert master and tries and tries[-1][4] is None, "claimed requests run"
            # claimed, then the builds row written a moment later; heartbeats since
            assert tries[-1][3] - 0.01 <= claimed_at <= END
            states.add("running")
        else:
            assert master is None and all(row[4] is not None for row in tries)
            states.add("pending")
    assert {"complete", "running"} <= states


def test_build_numbers_increase_with_start_time(history: Written) -> None:
    assert_numbers_increase(history.databases)


def test_every_schedulerdb_build_has_one_statusdb_build(history: Written) -> None:
    links = status_links(history.databases)
    builds = scheduler_builds(history.databases)
    assert len(links) == len(builds) == history.stats.builds
    for build_id, number, _brid, start, finish, buildername, _complete, _claimed in builds:
        _status_id, builder, status_number, starttime, endtime, _result = links[build_id]
        assert (builder, status_number) == (buildername, number)
        # statusdb has the claim's whole second; the builds row came a moment after the claim
        assert naive_utc(start - 0.01) <= starttime <= naive_utc(start)
        assert endtime == (None if finish is None else naive_utc(finish))
    count = scalar(history.databases.statusdb, select(func.count()).select_from(stat.builds))
    linked = len({link[0] for link in links.values()})  # idle jobs have no request
    assert count == history.stats.status_builds == linked + history.stats.idle_builds


def test_status_builds_have_their_properties_stored_once(history: Written) -> None:
    p, bp, link = stat.properties, stat.build_properties, stat.schedulerdb_requests
    named: dict[int, dict[str, Any]] = defaultdict(dict)
    query = select(bp.c.build_id, p.c.name, p.c.value).join(p, p.c.id == bp.c.property_id)
    for build_id, name, value in rows(history.databases.statusdb, query):
        named[build_id][name] = json.loads(value)
    query = select(link.c.status_build_id, link.c.scheduler_request_id)
    brids = by_key(rows(history.databases.statusdb, query), 0)
    assert len(named) == history.stats.status_builds
    for build_id, values in named.items():
        assert {"buildername", "slavename", "buildnumber", "request_ids"} <= set(values)
        assert values["request_ids"] == sorted(brid for _id, brid in brids[build_id])
    twice = select(p.c.name, p.c.source, p.c.value).group_by(p.c.name, p.c.source, p.c.value)
    assert rows(history.databases.statusdb, twice.having(func.count() > 1)) == []


def test_properties_lead_to_uploads_and_pushers(history: Written, tmp_path: Path) -> None:
    properties_agree(history.databases, load_layout(load_settings(data_dir=tmp_path)))


def test_retries_leave_a_finished_build_and_run_again(history: Written) -> None:
    links = status_links(history.databases)
    retried = 0
    for attempts in by_key(scheduler_builds(history.databases), 2).values():
        for earlier, later in itertools.pairwise(attempts):
            assert links[earlier[0]][-1] == Result.RETRY and earlier[4] is not None
            assert later[3] >= earlier[4]
            retried += 1
        last = attempts[-1]
        if links[last[0]][-1] == Result.RETRY:  # retried just before the end: pending again
            assert (last[6], last[7]) == (0, 0)
    assert retried > 0


def test_buildsets_complete_exactly_when_their_requests_do(history: Written) -> None:
    r, bs = sched.buildrequests, sched.buildsets
    query = select(r.c.buildsetid, r.c.complete, r.c.complete_at, r.c.results)
    requests = by_key(rows(history.databases.schedulerdb, query), 0)
    query = select(bs.c.id, bs.c.complete, bs.c.complete_at, bs.c.results)
    buildsets = rows(history.databases.schedulerdb, query)
    assert len(buildsets) == len(requests) == history.stats.buildsets
    for bsid, complete, complete_at, results in buildsets:
        mine = requests[bsid]
        assert bool(complete) == all(request[1] for request in mine)
        if complete:
            assert complete_at == max(request[2] for request in mine)
            good = all(request[3] in (0, 1) for request in mine)
            assert results == (0 if good else 2), "warnings succeed; nothing gives 1"
        else:
            assert complete_at is None and results is None


def test_nothing_happens_outside_the_window(history: Written) -> None:
    start = END - DAYS * DAY
    scheduler, status = history.databases.schedulerdb, history.databases.statusdb
    c, r, b = sched.changes, sched.buildrequests, sched.builds
    pushed = rows(scheduler, select(func.min(c.c.when_timestamp), func.max(c.c.when_timestamp)))
    submitted = rows(scheduler, select(func.min(r.c.submitted_at), func.max(r.c.submitted_at)))
    for low, high in pushed + submitted:
        assert start <= low and high < END
    assert scalar(scheduler, select(func.max(r.c.complete_at))) < END
    assert scalar(scheduler, select(func.max(b.c.finish_time))) < END
    assert scalar(status, select(func.max(stat.builds.c.endtime))) < naive_utc(END)
    running = select(func.count()).where(b.c.finish_time.is_(None))
    assert scalar(scheduler, running) > 0, "builds running at the end are left running"
    assert scalar(status, select(func.count()).where(stat.builds.c.endtime.is_(None))) > 0


def test_busy_pools_make_requests_wait_and_merge(busy: Written) -> None:
    builds = scheduler_builds(busy.databases)
    r = sched.buildrequests
    submitted = dict(rows(busy.databases.schedulerdb, select(r.c.id, r.c.submitted_at)))
    assert max(start - submitted[brid] for _i, _n, brid, start, *_rest in builds) > 3 * 3600
    links = status_links(busy.databases)
    merged = [
        group
        for group in by_key([(links[row[0]][0], *row) for row in builds], 0).values()
        if len(group) > 1
    ]
    assert merged, "waiting requests of one builder run as one build"
    for group in merged:
        assert len({(row[2], row[6]) for row in group}) == 1, "one number and builder"
        starts = [row[4] for row in sorted(group, key=lambda row: row[1])]
        gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
        assert all(0 < gap < 0.001 for gap in gaps), f"one INSERT after another: {starts}"
        assert " try " not in group[0][6]


def test_same_seed_same_rows(
    settings: Settings, databases: Databases, layout: FarmLayout, tmp_path: Path
) -> None:
    other = Databases.from_settings(load_settings(data_dir=tmp_path / "other"))
    init_databases(other)
    try:
        for target in (databases, other):
            write_history(
                layout, target, days=1, jobs_per_day=300, seed=3, end=END, zone=settings.zone
            )
        first, second = all_rows(databases), all_rows(other)
    finally:
        other.dispose()
    assert first == second
    assert len(first["scheduler.buildrequests"]) > 200


def all_rows(databases: Databases) -> dict[str, list[tuple]]:
    found = {}
    for label, engine, metadata in (
        ("scheduler", databases.schedulerdb, scheduler_metadata),
        ("status", databases.statusdb, status_metadata),
    ):
        for name, table in metadata.tables.items():
            found[f"{label}.{name}"] = rows(engine, select(table).order_by(*table.columns))
    return found


def test_a_second_run_continues_after_the_first(
    settings: Settings, databases: Databases, layout: FarmLayout
) -> None:
    def run(end: float) -> HistoryStats:
        return write_history(
            layout, databases, days=1, jobs_per_day=300, seed=1, end=end, zone=settings.zone
        )

    first = run(END - DAY)
    before = {
        table.name: scalar(databases.schedulerdb, select(func.max(table.c.id)))
        for table in (sched.buildrequests, sched.buildsets, sched.builds)
    }
    second = run(END)
    r = sched.buildrequests
    count = scalar(databases.schedulerdb, select(func.count()).select_from(r))
    assert count == first.requests + second.requests
    for table in (sched.buildrequests, sched.buildsets, sched.builds):
        later = select(func.count()).where(table.c.id > before[table.name])
        assert scalar(databases.schedulerdb, later) > 0
    newer = select(func.min(r.c.id)).where(r.c.submitted_at >= END - DAY)
    assert scalar(databases.schedulerdb, newer) > before["buildrequests"]
    assert_numbers_increase(databases)


def test_history_after_the_live_farm_and_the_farm_after_history(
    settings: Settings, databases: Databases, layout: FarmLayout
) -> None:
    clock = VirtualClock(END - 2 * DAY)
    farm = Farm(
        layout, databases, clock, seed=1, speed=1.0, zone=settings.zone, push_rates={"try": 6.0}
    )
    farm.start()
    farm.advance(5400, tick=600)
    live_builds = scalar(databases.statusdb, select(func.count()).select_from(stat.builds))
    assert live_builds > 0
    write_history(layout, databases, days=1, jobs_per_day=300, seed=1, end=END, zone=settings.zone)
    assert_numbers_increase(databases)
    linked = select(func.count()).select_from(sched.sourcestamp_changes)
    before = scalar(databases.schedulerdb, linked)
    later = Farm(
        layout, databases, VirtualClock(END), seed=2, speed=1.0, zone=settings.zone, push_rates={}
    )
    later.start()
    later.step()
    assert scalar(databases.schedulerdb, linked) == before, "history pushes are not scheduled again"


def test_history_continues_the_numbers_of_masters_now_on_other_ports(
    settings: Settings, databases: Databases, layout: FarmLayout, tmp_path: Path
) -> None:
    farm = Farm(
        layout,
        databases,
        VirtualClock(END - 2 * DAY),
        seed=1,
        speed=1.0,
        zone=settings.zone,
        push_rates={"try": 6.0},
    )
    farm.start()
    farm.advance(5400, tick=600)
    moved = with_free_ports(load_settings(data_dir=tmp_path / "ports"), layout)
    write_history(
        load_layout(moved), databases, days=1, jobs_per_day=300, seed=1, end=END, zone=settings.zone
    )
    assert_numbers_increase(databases)
    m, builders = stat.masters, stat.builders
    urls = select(builders.c.name, m.c.name, func.count(m.c.url.distinct())).join(
        m, m.c.id == builders.c.master_id
    )
    both = rows(databases.statusdb, urls.group_by(builders.c.name, m.c.name))
    assert any(count == 2 for _builder, _master, count in both), "no builder ran on both ports"


def test_runs_on_every_engine(
    engine_databases: Databases, settings: Settings, layout: FarmLayout
) -> None:
    init_databases(engine_databases)
    stats = write_history(
        layout, engine_databases, days=0.5, jobs_per_day=400, seed=5, end=END, zone=settings.zone
    )
    count = scalar(engine_databases.statusdb, select(func.count()).select_from(stat.builds))
    assert count == stats.status_builds > 0
    assert len(status_links(engine_databases)) == stats.builds
    steps = scalar(engine_databases.statusdb, select(func.count()).select_from(stat.steps))
    assert steps > 2 * count, "finished builds have their steps"
    with engine_databases.statusdb.connect() as connection:
        assert report_status.testrun_averages(connection, END - DAY, END)
        assert list(report_status.idle_builds(connection, END - DAY, END))
    with engine_databases.schedulerdb.begin() as connection:  # plain inserts still get free ids
        ssid = insert_sourcestamp(connection, "try", "abc")
        order = NewBuildset("test", int(END), ["b"], properties={}, sourcestampid=ssid)
        _bsid, brids = insert_buildset(connection, order)
    assert brids[0] == stats.requests + 1


def test_times_are_float_seconds(history: Written) -> None:
    """As a master's time.time(), on SQLite: the fraction is kept."""
    c, r, bs, b = sched.changes, sched.buildrequests, sched.buildsets, sched.builds
    for column in (
        c.c.when_timestamp, r.c.submitted_at, r.c.claimed_at, r.c.complete_at,
        bs.c.submitted_at, bs.c.complete_at, b.c.start_time, b.c.finish_time,
    ):  # fmt: skip
        values = [
            row[0] for row in rows(history.databases.schedulerdb, select(column).where(column != 0))
        ]
        assert values, f"{column} was never written"
        assert all(isinstance(v, float) and v != int(v) for v in values), column
