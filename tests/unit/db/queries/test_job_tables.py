"""The day and revision tables filtered, counted, sorted and paged in SQL, on each engine,
checked against the unpaged day query filtered and sorted in Python."""

from __future__ import annotations

import pytest

from buildapi.db.engines import Databases
from buildapi.db.queries import job_tables
from buildapi.db.queries.live import BranchFilter
from buildapi.db.queries.selfserve import builds_of_day
from buildapi.db.setup import init_databases
from buildapi.farm.bigday import AUTHORS, JOBS_PER_PUSH, BigDay, write_big_day
from buildapi.vocabulary import Result

BRANCH = BranchFilter("mozilla-inbound", "integration/mozilla-inbound")
START, END = 1_700_000_000, 1_700_086_400
BUILDERS = ("Linux x86-64 mozilla-inbound build", "WINNT 5.2 mozilla-inbound build", "Zb_c test")
JOBS = 700


@pytest.fixture
def day(engine_databases: Databases) -> Databases:
    # Seven pushes: the last one pending, the one before it running, the rest finished.
    init_databases(engine_databases)
    big = BigDay(BRANCH.repo_path, BUILDERS, START, END, JOBS, 0.2, 0.2)
    assert write_big_day(engine_databases, big) == JOBS
    return engine_databases


def whole_day(databases: Databases):  # type: ignore[no-untyped-def]
    with databases.schedulerdb.connect() as connection:
        return builds_of_day(connection, BRANCH, START, END)


def paged(databases: Databases, where=None, sort=None, offset=0, limit=50):  # type: ignore[no-untyped-def]
    with databases.schedulerdb.connect() as connection:
        scope = job_tables.day_scope(BRANCH, START, END)
        where, sort = where or job_tables.TableFilter(), sort or job_tables.Sort()
        return job_tables.page_rows(connection, scope, where, sort, offset, limit)


def every_row(databases: Databases, limit: int, **options):  # type: ignore[no-untyped-def]
    """All pages of `limit` rows, as (state, id) in page order."""
    found, offset = [], 0
    while True:
        page = paged(databases, offset=offset, limit=limit, **options)
        rows = [("pending", r.id) for r in page.pending]
        rows += [("running", b.build_id) for b in page.running]
        rows += [("finished", b.build_id) for b in page.finished]
        assert len(rows) <= limit
        if not rows:
            return found, page.counts
        found += rows
        offset += limit


def test_pages_run_through_pending_then_running_then_finished(day: Databases) -> None:
    built, waiting = whole_day(day)
    running = [b for b in built if b.finish_time is None]
    finished = [b for b in built if b.finish_time is not None]
    assert waiting and running and finished
    rows, counts = every_row(day, 37)
    assert counts == {"pending": len(waiting), "running": len(running), "finished": len(finished)}
    by_time = sorted(waiting, key=lambda r: (r.submitted_at, r.id), reverse=True)
    expected = [("pending", r.id) for r in by_time]
    for state, builds in (("running", running), ("finished", finished)):
        ordered = sorted(builds, key=lambda b: (b.start_time, b.build_id), reverse=True)
        expected += [(state, b.build_id) for b in ordered]
    assert rows == expected


def test_a_page_past_the_end_is_empty_with_the_counts(day: Databases) -> None:
    page = paged(day, offset=JOBS + 10)
    assert page.shown == 0 and page.total == JOBS


def test_sorting_by_builder_ascending_is_done_by_the_database(day: Databases) -> None:
    page = paged(day, sort=job_tables.Sort("builder", descending=False), offset=0, limit=JOBS)
    # Names whose case-blind and binary orders agree (MariaDB collates case-blind).
    names = [b.request.buildername for b in page.finished]
    assert names == sorted(names) and len(set(names)) == len(BUILDERS)


def test_builder_substring_is_case_blind_and_literal(day: Databases) -> None:
    page = paged(day, where=job_tables.TableFilter(builder="winnt"), limit=JOBS)
    names = {r.buildername for r in page.pending} | {
        b.request.buildername for b in page.running + page.finished
    }
    assert names == {"WINNT 5.2 mozilla-inbound build"}
    # "_" is no wildcard: only the builder that has one matches.
    literal = paged(day, where=job_tables.TableFilter(builder="b_c"), limit=JOBS)
    assert {b.request.buildername for b in literal.finished} == {"Zb_c test"}
    assert paged(day, where=job_tables.TableFilter(builder="%")).total == 0


def test_result_state_author_and_builder_set_filters(day: Databases) -> None:
    built, waiting = whole_day(day)
    failed = paged(day, where=job_tables.TableFilter(result=Result.FAILURE), limit=JOBS)
    expected = {b.build_id for b in built if b.finish_time is not None and b.request.results == 2}
    assert failed.counts == {"pending": 0, "running": 0, "finished": len(expected)} != {}
    assert {b.build_id for b in failed.finished} == expected

    running = paged(day, where=job_tables.TableFilter(state="running"), limit=JOBS)
    assert running.counts["pending"] == running.counts["finished"] == 0
    assert all(b.finish_time is None for b in running.running)

    author = paged(day, where=job_tables.TableFilter(author=AUTHORS[1]), limit=JOBS)
    # Push n is by AUTHORS[n % 4] and has JOBS_PER_PUSH jobs: pushes 1 and 5 of 7.
    assert author.total == 2 * JOBS_PER_PUSH

    linux = frozenset({BUILDERS[0]})
    only = paged(day, where=job_tables.TableFilter(builders=linux), limit=JOBS)
    assert only.total == sum(1 for r in waiting if r.buildername in linux) + sum(
        1 for b in built if b.request.buildername in linux
    )


def test_a_revision_scope_and_its_push(day: Databases) -> None:
    built, _waiting = whole_day(day)
    revision = built[0].request.revision
    with day.schedulerdb.connect() as connection:
        scope = job_tables.revision_scope(connection, BRANCH, revision[:12])
        page = job_tables.page_rows(
            connection, scope, job_tables.TableFilter(), job_tables.Sort(), 0, 500
        )
        push = job_tables.changes_of_scope(connection, scope)
        authors = job_tables.authors_of_buildsets(connection, [built[0].request.buildsetid])
    assert page.total == JOBS_PER_PUSH
    assert {b.request.revision for b in page.running + page.finished} == {revision}
    assert [change.revision for change in push] == [revision]
    assert authors == {built[0].request.buildsetid: [push[0].author]}
