"""statusdb rows for the slave, builder, test-run and idle-job reports.

statusdb keeps naive UTC datetimes (the status plugin writes them so); the database turns them
into whole epoch seconds as UTC (`epoch_seconds`), as /recent and the dumps give them, so no
datetime object is made per row. Builds are streamed in slave order; per-builder averages and
test-step sums are computed by the database with `seconds_between`. Both compile to each
engine's own date arithmetic.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import Connection, Float, Integer, and_, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from buildapi.db.queries.status_builds import naive_utc
from buildapi.db.schema.status import builders, builds, slaves, steps


class seconds_between(FunctionElement[float]):
    """`end - start` in seconds for two DATETIME columns, on SQLite, PostgreSQL and MySQL."""

    type = Float()
    inherit_cache = True


@compiles(seconds_between)
def _seconds_sqlite(element: seconds_between, compiler: Any, **kw: Any) -> str:
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"((julianday({end}) - julianday({start})) * 86400.0)"


@compiles(seconds_between, "postgresql")
def _seconds_postgresql(element: seconds_between, compiler: Any, **kw: Any) -> str:
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"EXTRACT(EPOCH FROM ({end} - {start}))"


@compiles(seconds_between, "mysql")
def _seconds_mysql(element: seconds_between, compiler: Any, **kw: Any) -> str:
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"TIMESTAMPDIFF(SECOND, {start}, {end})"


class epoch_seconds(FunctionElement[int]):
    """A naive UTC DATETIME column as whole epoch seconds, on SQLite, PostgreSQL and MySQL."""

    type = Integer()
    inherit_cache = True


@compiles(epoch_seconds)
def _epoch_sqlite(element: epoch_seconds, compiler: Any, **kw: Any) -> str:
    return f"CAST(strftime('%s', {compiler.process(element.clauses, **kw)}) AS INTEGER)"


@compiles(epoch_seconds, "postgresql")
def _epoch_postgresql(element: epoch_seconds, compiler: Any, **kw: Any) -> str:
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)})) AS BIGINT)"


@compiles(epoch_seconds, "mysql")
def _epoch_mysql(element: epoch_seconds, compiler: Any, **kw: Any) -> str:
    moment = compiler.process(element.clauses, **kw)
    return f"TIMESTAMPDIFF(SECOND, '1970-01-01 00:00:00', {moment})"


class SlaveBuild(NamedTuple):
    slave_id: int
    slave_name: str
    builder_id: int
    builder_name: str
    starttime: int | None
    endtime: int | None
    result: int | None


def slave_builds(
    connection: Connection,
    starttime: float,
    endtime: float,
    *,
    slave_id: int | None = None,
    builder_name: str | None = None,
) -> Iterator[SlaveBuild]:
    """Builds started in [starttime, endtime], by slave then start time, streamed."""
    query = (
        select(
            builds.c.slave_id,
            slaves.c.name,
            builds.c.builder_id,
            builders.c.name,
            epoch_seconds(builds.c.starttime),
            epoch_seconds(builds.c.endtime),
            builds.c.result,
        )
        .join(slaves, slaves.c.id == builds.c.slave_id)
        .join(builders, builders.c.id == builds.c.builder_id)
        .where(
            builds.c.starttime >= naive_utc(starttime),
            builds.c.starttime <= naive_utc(endtime),
        )
        .order_by(builds.c.slave_id, builds.c.starttime, builds.c.id)
    )
    if slave_id is not None:
        query = query.where(builds.c.slave_id == slave_id)
    if builder_name is not None:
        query = query.where(builders.c.name == builder_name)
    result = connection.execution_options(stream_results=True, yield_per=2000).execute(query)
    for row in result:
        yield SlaveBuild(*row)


def slave_name(connection: Connection, slave_id: int) -> str | None:
    return connection.execute(select(slaves.c.name).where(slaves.c.id == slave_id)).scalar()


def builder_known(connection: Connection, name: str) -> bool:
    query = select(builders.c.id).where(builders.c.name == name).limit(1)
    return connection.execute(query).first() is not None


@dataclass(frozen=True)
class BuilderSummaryRow:
    """One builder's builds in a window: counts by result, raw average duration, slaves."""

    name: str
    total: int
    avg_duration: float | None
    slaves: int
    results: dict[int | None, int]


def builder_summaries(
    connection: Connection, starttime: float, endtime: float
) -> list[BuilderSummaryRow]:
    """Per builder name (a name on several masters is one row), aggregated by the database."""
    window = and_(
        builds.c.starttime >= naive_utc(starttime), builds.c.starttime <= naive_utc(endtime)
    )
    duration = seconds_between(builds.c.starttime, builds.c.endtime)
    totals = (
        select(
            builders.c.name,
            func.count(),
            func.avg(duration),
            func.count(builds.c.slave_id.distinct()),
        )
        .join(builders, builders.c.id == builds.c.builder_id)
        .where(window)
        .group_by(builders.c.name)
        .order_by(builders.c.name)
    )
    by_result = (
        select(builders.c.name, builds.c.result, func.count())
        .join(builders, builders.c.id == builds.c.builder_id)
        .where(window)
        .group_by(builders.c.name, builds.c.result)
    )
    results: dict[str, dict[int | None, int]] = {}
    for name, outcome, count in connection.execute(by_result):
        results.setdefault(name, {})[outcome] = count
    return [
        BuilderSummaryRow(name, total, avg, slave_count, results.get(name, {}))
        for name, total, avg, slave_count in connection.execute(totals)
    ]


# Steps that run tests, for the test-run report.
TEST_STEPS = (
    "crashtest",
    "reftest",
    "xpcshell",
    "jsreftest",
    "Run performance tests",
    "mochitest-chrome",
    "mochitest-browser-chrome",
    "mochitest-a11y",
    "mochitest-ipcplugins",
)
TEST_STEP_PATTERN = "%mochitest-plain%"
EXCLUDED_TEST_BUILDER = "mozilla-central-linux-codecoverage"


@dataclass(frozen=True)
class BuilderTestTime:
    buildername: str
    total: float
    test: float


def testrun_averages(
    connection: Connection, starttime: float, endtime: float, category: str | None = None
) -> list[BuilderTestTime]:
    """Per builder: the average length of its good builds (10 s to a day long, in the window)
    and the average time their test steps took, ordered by the share of testing."""
    build_seconds = seconds_between(builds.c.starttime, builds.c.endtime)
    query = (
        select(
            builds.c.id.label("build_id"),
            builders.c.name.label("buildername"),
            func.max(build_seconds).label("total"),
            func.sum(seconds_between(steps.c.starttime, steps.c.endtime)).label("test"),
        )
        .join(builders, builders.c.id == builds.c.builder_id)
        .join(steps, steps.c.build_id == builds.c.id)
        .where(
            or_(steps.c.name.in_(TEST_STEPS), steps.c.name.like(TEST_STEP_PATTERN)),
            builds.c.result.in_((0, 1)),
            builders.c.name != EXCLUDED_TEST_BUILDER,
            builds.c.starttime >= naive_utc(starttime),
            builds.c.endtime <= naive_utc(endtime),
            builds.c.endtime > builds.c.starttime,
            build_seconds > 10,
            build_seconds < 86400,
        )
        .group_by(builds.c.id, builders.c.name)
    )
    if category is not None:
        query = query.where(builders.c.category == category)
    per_build = query.subquery()
    average_total = func.avg(per_build.c.total)
    average_test = func.avg(per_build.c.test)
    averages = (
        select(per_build.c.buildername, average_total, average_test)
        .group_by(per_build.c.buildername)
        .order_by(average_test / average_total, per_build.c.buildername)
    )
    return [
        BuilderTestTime(name, float(total), float(test or 0))
        for name, total, test in connection.execute(averages)
    ]


class IdleBuild(NamedTuple):
    buildername: str
    starttime: int
    endtime: int


def idle_builds(connection: Connection, starttime: float, endtime: float) -> Iterator[IdleBuild]:
    """Finished builds of idle-job builders (category containing `idle`) inside the window."""
    query = (
        select(builders.c.name, epoch_seconds(builds.c.starttime), epoch_seconds(builds.c.endtime))
        .join(builders, builders.c.id == builds.c.builder_id)
        .where(
            builders.c.category.like("%idle%"),
            builds.c.starttime >= naive_utc(starttime),
            builds.c.endtime <= naive_utc(endtime),
            builds.c.endtime > builds.c.starttime,
        )
    )
    result = connection.execution_options(stream_results=True, yield_per=2000).execute(query)
    for row in result:
        yield IdleBuild(*row)
