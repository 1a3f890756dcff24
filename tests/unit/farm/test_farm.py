"""The simulated farm over long seeded runs: the invariants a real Buildbot farm keeps."""

from __future__ import annotations

import itertools
import shutil
import tempfile
from pathlib import Path

from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import text, update

from buildapi.clock import VirtualClock
from buildapi.config import Settings, load_settings
from buildapi.db.engines import Databases
from buildapi.db.schema.scheduler import buildrequests
from buildapi.db.setup import init_databases
from buildapi.farm.farm import Farm
from buildapi.farm.launch import with_free_ports
from buildapi.layout import FarmLayout, load_layout
from buildapi.vocabulary import Result
from tests.unit.farm.conftest import START, make_farm
from tests.unit.farm.invariants import check_all, properties_agree, rows


def claim_order_kept(farm: Farm) -> None:
    """Builds started in the last step took the best pending request of their pool: higher
    priority first, then oldest; nothing better than a build's best request is left waiting."""
    now = int(farm.clock.now())
    started = [build for build in farm.running.values() if int(build.started) == now]
    if not started:
        return
    keys = {
        brid: (-priority, submitted, brid)
        for brid, priority, submitted in rows(
            farm.databases.schedulerdb, "SELECT id, priority, submitted_at FROM buildrequests"
        )
    }
    pending = rows(
        farm.databases.schedulerdb,
        "SELECT id, buildername FROM buildrequests WHERE claimed_at = 0 AND complete = 0",
    )
    for build in started:
        pool = farm.layout.builders[build.buildername].slavepool
        best = min(keys[brid] for brid in build.brids)
        for brid, name in pending:
            builder = farm.layout.builders.get(name)
            if builder and builder.slavepool == pool and farm.routing.masters_for(name):
                assert keys[brid] > best, f"request {brid} waits while {build.brids} ran"


class FarmMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.directory = Path(tempfile.mkdtemp(prefix="farm-"))
        self.farm = make_farm(self.directory)

    def teardown(self) -> None:
        self.farm.databases.dispose()
        shutil.rmtree(self.directory, ignore_errors=True)

    @rule(minutes=st.integers(min_value=1, max_value=30))
    def advance(self, minutes: int) -> None:
        self.farm.advance(minutes * 60.0, tick=60.0)
        claim_order_kept(self.farm)

    @precondition(lambda self: bool(self.farm.running))
    @rule(pick=st.integers(min_value=0, max_value=10_000))
    def stop_a_build(self, pick: int) -> None:
        build = sorted(self.farm.running.values(), key=lambda b: b.key)[
            pick % len(self.farm.running)
        ]
        self.farm.stop_build(*build.key)
        found = rows(
            self.farm.databases.schedulerdb,
            f"SELECT complete, results FROM buildrequests WHERE id IN "
            f"({','.join(map(str, build.brids))})",
        )
        assert set(found) == {(1, Result.FAILURE)}
        self.farm.step()

    @rule(pick=st.integers(min_value=0, max_value=10_000), priority=st.integers(-5, 5))
    def reprioritize(self, pick: int, priority: int) -> None:
        pending = rows(
            self.farm.databases.schedulerdb,
            "SELECT id FROM buildrequests WHERE claimed_at = 0 AND complete = 0 ORDER BY id",
        )
        if pending:
            brid = pending[pick % len(pending)][0]
            with self.farm.databases.schedulerdb.begin() as connection:
                connection.execute(
                    update(buildrequests)
                    .where(buildrequests.c.id == brid)
                    .values(priority=priority)
                )
        self.farm.step()
        claim_order_kept(self.farm)

    @invariant()
    def databases_are_consistent(self) -> None:
        check_all(self.farm)


TestFarmMachine = FarmMachine.TestCase
TestFarmMachine.settings = hypothesis_settings(
    max_examples=5, stateful_step_count=10, deadline=None
)


def test_a_day_of_farm_keeps_every_invariant(farm: Farm) -> None:
    farm.advance(86400.0, tick=300.0)
    check_all(farm)
    properties_agree(farm.databases, farm.layout)
    results = {
        row[0] for row in rows(farm.databases.statusdb, "SELECT DISTINCT result FROM builds")
    }
    assert {0, 1, 2, 5} <= results, f"result mix too narrow: {results}"
    merged = rows(
        farm.databases.schedulerdb,
        "SELECT COUNT(*) FROM (SELECT number, start_time FROM builds GROUP BY brid, number, "
        "start_time) AS b",
    )
    assert merged[0][0] > 0
    nightly = rows(
        farm.databases.schedulerdb,
        "SELECT COUNT(*) FROM buildrequests WHERE buildername LIKE '% nightly'",
    )
    assert nightly[0][0] > 0, "no nightly ran in a day"
    tests = rows(
        farm.databases.schedulerdb,
        "SELECT COUNT(*) FROM buildrequests WHERE buildername LIKE '% test %'",
    )
    assert tests[0][0] > 0, "no test was triggered by a build"


def test_merging_happens_when_a_pool_is_busy(tmp_path: Path) -> None:
    farm = make_farm(tmp_path, push_rates={"mozilla-inbound": 40.0})
    farm.advance(6 * 3600.0, tick=60.0)
    links = rows(
        farm.databases.statusdb,
        "SELECT status_build_id, scheduler_build_id FROM schedulerdb_requests ORDER BY 1",
    )
    builds: dict[int, list[int]] = {}
    for status_id, scheduler_build_id in links:
        builds.setdefault(status_id, []).append(scheduler_build_id)
    merged = [ids for ids in builds.values() if len(ids) > 1]
    assert merged, "a busy branch never merged requests"
    for ids in merged:
        found = rows(
            farm.databases.schedulerdb,
            f"SELECT number, start_time FROM builds WHERE id IN ({','.join(map(str, ids))}) "
            "ORDER BY id",
        )
        assert len({number for number, _start in found}) == 1, f"numbers of {ids}: {found}"
        gaps = [later - earlier for (_n, earlier), (_m, later) in itertools.pairwise(found)]
        assert all(0 < gap < 0.001 for gap in gaps), f"start times of {ids}: {found}"
    farm.databases.dispose()


def dump(farm: Farm) -> dict[str, list]:
    tables = {}
    for engine in (farm.databases.schedulerdb, farm.databases.statusdb):
        with engine.connect() as connection:
            names = [
                row[0]
                for row in connection.execute(
                    text("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
                )
            ]
            for name in names:
                tables[f"{engine.url.database}:{name}".rsplit("/", 1)[-1]] = list(
                    connection.execute(text(f'SELECT * FROM "{name}" ORDER BY 1'))
                )
    return tables


def test_same_seed_and_steps_give_the_same_databases(tmp_path: Path) -> None:
    first = make_farm(tmp_path / "a", seed=11)
    second = make_farm(tmp_path / "b", seed=11)
    other = make_farm(tmp_path / "c", seed=12)
    for farm in (first, second, other):
        farm.advance(4 * 3600.0, tick=60.0)
    assert dump(first) == dump(second)
    assert dump(first) != dump(other)
    for farm in (first, second, other):
        farm.databases.dispose()


def test_restart_requeues_builds_that_were_running(tmp_path: Path) -> None:
    farm = make_farm(tmp_path)
    farm.advance(3 * 3600.0, tick=60.0)
    running = sorted(brid for build in farm.running.values() for brid in build.brids)
    assert running
    farm.databases.dispose()
    again = make_farm(tmp_path, start=farm.clock.now() + 60)
    pending = {
        row[0]
        for row in rows(
            again.databases.schedulerdb,
            "SELECT id FROM buildrequests WHERE claimed_at = 0 AND complete = 0",
        )
    }
    assert set(running) <= pending
    assert rows(again.databases.statusdb, "SELECT COUNT(*) FROM builds WHERE endtime IS NULL") == [
        (0,)
    ]
    again.advance(600.0)
    check_all(again)
    again.databases.dispose()


def highest_numbers(farm: Farm) -> dict[tuple[str, str], int]:
    """(master name, builder name) -> the highest build number in statusdb."""
    found = rows(
        farm.databases.statusdb,
        "SELECT m.name, bl.name, MAX(b.buildnumber) FROM builds b "
        "JOIN builders bl ON bl.id = b.builder_id JOIN masters m ON m.id = b.master_id "
        "GROUP BY m.name, bl.name",
    )
    return {(master, builder): number for master, builder, number in found}


def test_build_numbers_continue_after_a_restart_on_new_ports(tmp_path: Path) -> None:
    """A master keeps counting across restarts, even when it comes back on another port (as
    `buildapi demo` does); its lost builds run again under new numbers."""
    farm = make_farm(tmp_path)
    farm.advance(3 * 3600.0, tick=60.0)
    assert farm.running
    before = highest_numbers(farm)
    old_urls = {master.http_url for master in farm.layout.masters}
    farm.databases.dispose()
    base = load_settings(data_dir=tmp_path / "ports")
    moved = with_free_ports(base, load_layout(base))
    again = make_farm(tmp_path, start=farm.clock.now() + 60, masters_url=moved.masters_url)
    assert old_urls.isdisjoint(master.http_url for master in again.layout.masters)
    again.advance(3 * 3600.0, tick=60.0)
    check_all(again)
    after = highest_numbers(again)
    continued = [key for key in before if after[key] > before[key]]
    assert continued, "no builder of the first run built again"


# Every time a master writes into schedulerdb; claimed_at is 0 while a request waits.
WRITTEN_TIMES = (
    ("builds", "start_time"),
    ("builds", "finish_time"),
    ("buildrequests", "submitted_at"),
    ("buildrequests", "claimed_at"),
    ("buildrequests", "complete_at"),
    ("buildsets", "submitted_at"),
    ("buildsets", "complete_at"),
    ("changes", "when_timestamp"),
)


def written_times(farm: Farm) -> dict[str, list]:
    return {
        f"{table}.{column}": [
            row[0]
            for row in rows(
                farm.databases.schedulerdb,
                f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL AND {column} != 0",
            )
        ]
        for table, column in WRITTEN_TIMES
    }


def test_times_are_float_seconds_on_sqlite_and_rounded_on_servers(
    engine_databases: Databases, settings: Settings, layout: FarmLayout
) -> None:
    """A master writes time.time(): SQLite keeps the fraction, MySQL and PostgreSQL round it
    into their INTEGER columns. The farm's clock here stands on whole seconds."""
    init_databases(engine_databases)
    farm = Farm(
        layout,
        engine_databases,
        VirtualClock(START),
        seed=3,
        speed=1.0,
        zone=settings.zone,
        push_rates={"mozilla-inbound": 3.0},
        idle_jobs=False,
    )
    farm.start()
    farm.advance(3 * 3600.0, tick=300.0)
    found = written_times(farm)
    assert all(found.values()), f"a time column was never written: {found}"
    sqlite = engine_databases.schedulerdb.dialect.name == "sqlite"
    for name, values in found.items():
        if sqlite:
            assert all(isinstance(v, float) and v != int(v) for v in values), name
        else:
            assert all(isinstance(v, int) for v in values), name
        assert all(START <= v <= farm.clock.now() + 1 for v in values), name
