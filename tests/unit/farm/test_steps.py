"""Build steps and idle jobs: what the simulated farm writes for the test-run and idle-job
reports, in the history and in the live farm."""

from __future__ import annotations

import datetime
import itertools
import random
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from buildapi.clock import VirtualClock
from buildapi.config import Settings, load_settings
from buildapi.db.engines import Databases
from buildapi.db.queries import report_status
from buildapi.db.queries.report_status import TEST_STEPS
from buildapi.db.setup import init_databases
from buildapi.farm import idle
from buildapi.farm.farm import Farm
from buildapi.farm.history import HistoryStats, write_history
from buildapi.farm.launch import build_farm
from buildapi.farm.routing import Routing
from buildapi.farm.steps import PERFORMANCE_STEP, plan_steps, suite_step_names, templates
from buildapi.layout import FarmLayout, load_layout
from buildapi.vocabulary import Result
from tests.unit.farm.conftest import make_farm

DAY = 86400
END = 1_700_000_000.0
START = END - DAY


def recognized(name: str) -> bool:
    """Whether the test-run report counts a step of this name (TEST_STEP_PATTERN is
    `%mochitest-plain%`)."""
    return name in TEST_STEPS or "mochitest-plain" in name


def rows(engine: Engine, sql: str) -> list[tuple]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(sql))]


def epoch(value: object) -> int:
    """A statusdb datetime (SQLite text) as epoch seconds."""
    moment = datetime.datetime.fromisoformat(str(value)).replace(tzinfo=datetime.UTC)
    return int(moment.timestamp())


class Written:
    def __init__(self, databases: Databases, layout: FarmLayout, stats: HistoryStats) -> None:
        self.databases, self.layout, self.stats = databases, layout, stats


def write(directory: Path, seed: int = 7, days: float = 1, jobs: int = 800) -> Written:
    settings = load_settings(data_dir=directory)
    databases = Databases.from_settings(settings)
    init_databases(databases)
    layout = load_layout(settings)
    stats = write_history(
        layout,
        databases,
        days=days,
        jobs_per_day=jobs,
        seed=seed,
        end=START + days * DAY,
        zone=settings.zone,
    )
    return Written(databases, layout, stats)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Written]:
    written = write(tmp_path_factory.mktemp("steps"))
    yield written
    written.databases.dispose()


def builds_with_steps(engine: Engine) -> dict[int, dict]:
    """status build id -> its builder, kind of row, times, result, slave and steps."""
    found: dict[int, dict] = {}
    for build_id, name, category, slave, start, end, result, reason in rows(
        engine,
        "SELECT b.id, r.name, r.category, b.slave_id, b.starttime, b.endtime, b.result, "
        "b.reason FROM builds b JOIN builders r ON r.id = b.builder_id",
    ):
        found[build_id] = {
            "name": name,
            "category": category,
            "slave": slave,
            "start": epoch(start),
            "end": None if end is None else epoch(end),
            "result": result,
            "reason": reason,
            "steps": [],
        }
    for build_id, order, name, start, end, status in rows(
        engine,
        'SELECT build_id, "order", name, starttime, endtime, status FROM steps '
        'ORDER BY build_id, "order"',
    ):
        found[build_id]["steps"].append((order, name, epoch(start), epoch(end), status))
    return found


def assert_tiled(build: dict) -> None:
    """Steps in order, each starting where the one before ended, from start to end."""
    steps = build["steps"]
    assert steps, f"finished build {build['name']} has no steps"
    assert [step[0] for step in steps] == list(range(len(steps)))
    assert steps[0][2] == build["start"] and steps[-1][3] == build["end"]
    at = build["start"]
    for _order, name, start, end, _status in steps:
        assert start == at and start <= end, f"{name} of {build['name']} overlaps or gaps"
        at = end


# -- the plan itself --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("suite", "names"),
    [
        ("mochitest-1", ("mochitest-plain-1",)),
        ("mochitest-2", ("mochitest-plain-2",)),
        ("mochitest-browser-chrome-1", ("mochitest-browser-chrome",)),
        ("mochitest-devtools-chrome", ("mochitest-browser-chrome",)),
        ("crashtest", ("crashtest",)),
        ("reftest", ("reftest",)),
        ("plain-reftest-1", ("reftest",)),
        ("jsreftest", ("jsreftest",)),
        ("xpcshell", ("xpcshell",)),
        ("web-platform-tests-1", ("reftest",)),
        (
            "mochitest-other",
            (
                "mochitest-chrome",
                "mochitest-browser-chrome",
                "mochitest-a11y",
                "mochitest-ipcplugins",
            ),
        ),
        ("jittest", ("jittest",)),  # unknown to the report: a step of its own name
    ],
)
def test_suites_run_steps_the_report_knows(suite: str, names: tuple[str, ...]) -> None:
    assert suite_step_names(suite) == names


def test_every_shipped_test_builder_has_a_recognized_main_step(layout: FarmLayout) -> None:
    checked = 0
    for name, builder in layout.builders.items():
        if builder.kind not in ("test", "talos"):
            continue
        steps = templates(name, builder.kind)
        main = [step for step in steps if step.main]
        assert main and all(recognized(step.name) for step in main), name
        assert sum(s.weight for s in main) > 0.8 * sum(s.weight for s in steps)
        if builder.kind == "talos":
            assert [step.name for step in main] == [PERFORMANCE_STEP]
        checked += 1
    assert checked > 100


@pytest.mark.parametrize("kind", ["build", "test", "talos", "l10n", "nightly", "pgo", "idle"])
@pytest.mark.parametrize(
    ("result", "stopped"),
    [
        *(
            (result, False)
            for result in (
                Result.SUCCESS,
                Result.WARNINGS,
                Result.FAILURE,
                Result.EXCEPTION,
                Result.RETRY,
            )
        ),
        (Result.FAILURE, True),  # stopped
    ],
)
@pytest.mark.parametrize(("start", "end"), [(1000, 1000), (1000, 1003), (1000, 5000)])
def test_plans_tile_the_build(kind: str, result: int, stopped: bool, start: int, end: int) -> None:
    name = "Ubuntu VM 12.04 x64 mozilla-inbound opt test mochitest-1"
    for seed in range(20):
        steps = plan_steps(random.Random(seed), name, kind, start, end, result, stopped=stopped)
        assert_tiled(
            {
                "name": kind,
                "start": start,
                "end": end,
                "steps": [(i, s.name, s.start, s.end, s.status) for i, s in enumerate(steps)],
            }
        )
        if stopped or result in (Result.RETRY, Result.EXCEPTION):
            assert steps[-1].status == result, "a build cut short ends in its last step"
            assert all(step.status == Result.SUCCESS for step in steps[:-1])
        else:
            assert {step.status for step in steps} <= {Result.SUCCESS, result}


def test_a_failed_compile_uploads_nothing_but_a_failed_test_run_still_reboots() -> None:
    rng = random.Random(1)
    build = plan_steps(rng, "Linux x86-64 mozilla-inbound build", "build", 0, 3600, Result.FAILURE)
    assert [s.name for s in build][-1] == "compile" and build[-1].status == Result.FAILURE
    good = plan_steps(rng, "Linux x86-64 mozilla-inbound build", "build", 0, 3600, Result.SUCCESS)
    assert [s.name for s in good] == ["set props", "checkout", "compile", "upload"]
    test = plan_steps(
        rng, "Ubuntu VM 12.04 x64 ash opt test xpcshell", "test", 0, 900, Result.FAILURE
    )
    assert [s.name for s in test] == ["set props", "download", "xpcshell", "reboot"]
    assert [s.status for s in test] == [
        Result.SUCCESS,
        Result.SUCCESS,
        Result.FAILURE,
        Result.SUCCESS,
    ]


# -- the history ------------------------------------------------------------------------------


def test_history_steps_tile_every_finished_build(history: Written) -> None:
    builds = builds_with_steps(history.databases.statusdb)
    finished = [build for build in builds.values() if build["end"] is not None]
    assert len(finished) > 500
    for build in finished:
        assert_tiled(build)
    running = [build for build in builds.values() if build["end"] is None]
    assert running and all(not build["steps"] for build in running), "running: no steps yet"


def test_test_builds_spend_most_of_their_time_in_recognized_test_steps(history: Written) -> None:
    kinds = {name: builder.kind for name, builder in history.layout.builders.items()}
    seen = set()
    for build in builds_with_steps(history.databases.statusdb).values():
        kind = kinds.get(build["name"])
        if kind not in ("test", "talos") or build["result"] not in (
            Result.SUCCESS,
            Result.WARNINGS,
            Result.FAILURE,
        ):
            continue
        tests = [step for step in build["steps"] if recognized(step[1])]
        assert tests, f"{build['name']} ran no test step the report knows"
        seconds = sum(end - start for _o, _n, start, end, _s in tests)
        if build["end"] - build["start"] > 600:
            assert seconds > 0.6 * (build["end"] - build["start"])
        seen.add(kind)
    assert seen == {"test", "talos"}


def test_idle_jobs_run_only_in_statusdb_on_idle_slaves(history: Written) -> None:
    statusdb = history.databases.statusdb
    builds = builds_with_steps(statusdb)
    idle_ids = {i for i, build in builds.items() if build["category"] == idle.CATEGORY}
    assert len(idle_ids) == history.stats.idle_builds > 0
    names = {builds[i]["name"] for i in idle_ids}
    assert 1 <= len(names) <= idle.MAX_BUILDERS
    assert all(builds[i]["reason"] == idle.REASON for i in idle_ids)
    linked = {row[0] for row in rows(statusdb, "SELECT status_build_id FROM schedulerdb_requests")}
    assert not idle_ids & linked, "no request asked for an idle job"
    assert set(builds) - linked == idle_ids, "every other build ran requests"
    requested = rows(
        history.databases.schedulerdb,
        "SELECT COUNT(*) FROM buildrequests WHERE buildername LIKE '%idle%'",
    )
    assert requested == [(0,)]
    slave_names = dict(rows(statusdb, "SELECT id, name FROM slaves"))
    pools = {builder.name: pool for pool, builder in idle_builders(history).items()}
    for build_id in idle_ids:
        build = builds[build_id]
        assert slave_names[build["slave"]] in history.layout.slaves[pools[build["name"]]]
    for mine in one_build_at_a_time(builds).values():
        idle_runs = [build for build in mine if build["category"] == idle.CATEGORY]
        for earlier, later in itertools.pairwise(idle_runs):
            assert later["start"] - earlier["start"] >= 3600, "over one idle job an hour"


def one_build_at_a_time(builds: dict[int, dict]) -> dict[int, list[dict]]:
    """Each slave's builds by start time, checked not to overlap (a running one is last)."""
    by_slave: dict[int, list[dict]] = defaultdict(list)
    for build in builds.values():
        by_slave[build["slave"]].append(build)
    for slave, mine in by_slave.items():
        mine.sort(key=lambda build: (build["start"], build["end"] is None))
        for earlier, later in itertools.pairwise(mine):
            assert earlier["end"] is not None, f"slave {slave} ran a build after a running one"
            assert later["start"] >= earlier["end"], f"slave {slave} ran two builds at once"
    return by_slave


def idle_builders(written: Written) -> dict[str, idle.IdleBuilder]:
    return idle.idle_builders(written.layout, Routing(written.layout))


def test_idle_jobs_start_only_when_nothing_waits_for_their_pool(history: Written) -> None:
    """No request of the pool was submitted before an idle job started and still unstarted."""
    pools = {builder.name: pool for pool, builder in idle_builders(history).items()}
    pool_of = {name: builder.slavepool for name, builder in history.layout.builders.items()}
    first_start = dict(
        rows(
            history.databases.schedulerdb,
            "SELECT br.id, MIN(b.start_time) FROM buildrequests br "
            "LEFT JOIN builds b ON b.brid = br.id GROUP BY br.id",
        )
    )
    requests = rows(
        history.databases.schedulerdb, "SELECT id, buildername, submitted_at FROM buildrequests"
    )
    waits: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for brid, name, submitted in requests:
        started = first_start[brid]
        waits[pool_of[name]].append((submitted, float("inf") if started is None else started))
    checked = 0
    for build in builds_with_steps(history.databases.statusdb).values():
        if build["category"] != idle.CATEGORY:
            continue
        start = build["start"]
        waiting = [w for w in waits[pools[build["name"]]] if w[0] < start < w[1]]
        assert not waiting, f"{build['name']} started at {start} while requests waited"
        checked += 1
    assert checked > 0


def test_the_reports_find_test_runs_and_idle_jobs(history: Written) -> None:
    with history.databases.statusdb.connect() as connection:
        averages = report_status.testrun_averages(connection, START, END)
        found = list(report_status.idle_builds(connection, START, END))
    assert len(averages) > 50
    assert all(0.5 < row.test / row.total < 1 for row in averages)
    assert any(" talos " in row.buildername for row in averages)
    assert found and all(row.endtime > row.starttime for row in found)
    names = {builder.name for builder in idle_builders(history).values()}
    assert {row.buildername for row in found} == names


def test_same_seed_same_steps_and_idle_jobs(tmp_path: Path) -> None:
    def steps_of(written: Written) -> list[tuple]:
        found = rows(
            written.databases.statusdb,
            'SELECT s.build_id, s."order", s.name, s.description, s.starttime, s.endtime, '
            "s.status, r.name FROM steps s JOIN builds b ON b.id = s.build_id "
            "JOIN builders r ON r.id = b.builder_id ORDER BY s.id",
        )
        written.databases.dispose()
        return found

    first = steps_of(write(tmp_path / "a", seed=3, days=0.5, jobs=400))
    second = steps_of(write(tmp_path / "b", seed=3, days=0.5, jobs=400))
    other = steps_of(write(tmp_path / "c", seed=4, days=0.5, jobs=400))
    assert first == second
    assert any(row[-1].endswith("idle maintenance") for row in first)
    assert first != other


# -- the live farm ----------------------------------------------------------------------------


@pytest.fixture
def quiet_farm(tmp_path: Path) -> Iterator[Farm]:
    """A few pushes an hour: test pools are often free, so freed slaves run idle jobs."""
    farm = make_farm(tmp_path, push_rates={"mozilla-inbound": 2.0, "mozilla-central": 1.0})
    yield farm
    farm.databases.dispose()


def test_live_farm_writes_steps_and_runs_idle_jobs(quiet_farm: Farm) -> None:
    farm = quiet_farm
    for _ in range(300):  # ten farm hours
        farm.advance(120.0, tick=120.0)
        nothing_waits_for_new_idle_jobs(farm)
    builds = builds_with_steps(farm.databases.statusdb)
    finished = [build for build in builds.values() if build["end"] is not None]
    assert finished
    for build in finished:
        assert_tiled(build)
    kinds = {name: builder.kind for name, builder in farm.layout.builders.items()}
    tested = [
        build
        for build in finished
        if kinds.get(build["name"]) == "test"
        and build["result"] in (Result.SUCCESS, Result.WARNINGS)
    ]
    assert tested and all(any(recognized(s[1]) for s in b["steps"]) for b in tested)
    idle_runs = [build for build in builds.values() if build["category"] == idle.CATEGORY]
    assert idle_runs, "freed test slaves with nothing waiting ran idle jobs"
    assert set(farm.idling).isdisjoint(farm.running)
    assert all(not build.brids for build in farm.idling.values())
    linked = {
        row[0]
        for row in rows(farm.databases.statusdb, "SELECT status_build_id FROM schedulerdb_requests")
    }
    assert not linked & {i for i, b in builds.items() if b["category"] == idle.CATEGORY}
    one_build_at_a_time(builds)


def nothing_waits_for_new_idle_jobs(farm: Farm) -> None:
    """An idle job that started in the last step left no claimable request of its pool."""
    now = farm.clock.now()
    started = {job.facts.builder.slavepool for job in farm.idling.values() if job.started == now}
    pending = rows(
        farm.databases.schedulerdb,
        "SELECT buildername FROM buildrequests WHERE claimed_at = 0 AND complete = 0",
    )
    for (name,) in pending:
        builder = farm.layout.builders.get(name)
        if builder is not None and farm.routing.masters_for(name):
            assert builder.slavepool not in started, f"{name} waits beside an idle job"


def test_a_stopped_idle_job_ends_failed_in_its_last_step(quiet_farm: Farm) -> None:
    farm = quiet_farm
    for _ in range(200):
        farm.advance(600.0, tick=120.0)
        if farm.idling:
            break
    assert farm.idling, "an idle job ran within the farm's first hours"
    job = sorted(farm.idling.values(), key=lambda build: build.key)[0]
    farm.clock.advance(30.0)  # type: ignore[attr-defined]
    farm.stop_build(*job.key)
    assert job.key not in farm.idling and job.slave not in farm.slaves.busy
    steps = rows(
        farm.databases.statusdb,
        f'SELECT name, status FROM steps WHERE build_id = {job.status_id} ORDER BY "order"',
    )
    assert steps and steps[-1][1] == Result.FAILURE
    result = rows(farm.databases.statusdb, f"SELECT result FROM builds WHERE id = {job.status_id}")
    assert result == [(Result.FAILURE,)]


def test_idle_builders_are_a_few_of_the_biggest_test_pools(settings: Settings) -> None:
    layout = load_layout(settings)
    found = idle.idle_builders(layout, Routing(layout))
    assert 1 <= len(found) <= idle.MAX_BUILDERS
    test_pools = {b.slavepool for b in layout.builders.values() if b.kind in ("test", "talos")}
    for pool, builder in found.items():
        assert pool in test_pools and builder.builder.kind == "idle"
        assert builder.builder.properties.branch == idle.CATEGORY and builder.masters
        assert builder.name == f"{pool} idle maintenance"
    smallest = min(len(layout.slaves[pool]) for pool in found)
    assert all(len(layout.slaves[pool]) <= smallest for pool in test_pools - set(found))


def test_idle_jobs_are_on_unless_turned_off(
    settings: Settings, databases: Databases, layout: FarmLayout
) -> None:
    clock = VirtualClock(END)
    launched = build_farm(settings, layout, databases, clock)
    assert set(launched.idle.builders) == set(idle.idle_builders(layout, Routing(layout)))
    quiet = Farm(
        layout,
        databases,
        clock,
        seed=1,
        speed=1.0,
        zone=settings.zone,
        push_rates={},
        idle_jobs=False,
    )
    assert quiet.idle.builders == {}
