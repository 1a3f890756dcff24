"""Reprioritize, cancel and rebuild on every engine: database effects, answers, at most once."""

from __future__ import annotations

import json
import threading

import pytest

import buildapi.agent.buildbot08 as buildbot08
from buildapi.agent.dispatcher import Dispatcher
from buildapi.agent.ledger import Ledger
from buildapi.config import Settings
from buildapi.db.engines import make_engine
from buildapi.selfserve.messages import Outcome
from tests.unit.agent.conftest import (
    BUILD,
    PROPERTIES,
    REVISION,
    TEST,
    WHO,
    Seeded,
    claim,
    count,
    dispatcher_of,
    finish,
    job,
    rows,
    snapshot,
    submit,
    unreachable_masters,
)

NOW = 1_780_000_600  # the seeded clock
MASTER = "buildbot-master01.bb.releng.example.com:/builds/buildbot/build1/master"


def request_row(seeded: Seeded, brid: int) -> tuple:
    return rows(
        seeded.engine,
        "SELECT priority, claimed_at, claimed_by_name, complete, results, complete_at "
        "FROM buildrequests WHERE id = :brid",
        brid=brid,
    )[0]


def test_reprioritize_changes_a_pending_request_only(seeded: Seeded) -> None:
    _bsid, (pending, running, done) = submit(seeded.engine, [BUILD, BUILD, BUILD])
    claim(seeded.engine, running, MASTER)
    claim(seeded.engine, done, MASTER)
    finish(seeded.engine, done)
    perform = seeded.dispatcher.perform

    assert perform(job("reprioritize", brid=pending, priority=5)) == Outcome(False, "Ok")
    assert perform(job("reprioritize", brid=running, priority=5)) == Outcome(
        False, "Request is running, nothing to do"
    )
    assert perform(job("reprioritize", brid=done, priority=5)) == Outcome(
        False, "Request is complete, nothing to do"
    )
    assert perform(job("reprioritize", brid=999_999, priority=5)) == Outcome(
        True, "No request with that id"
    )
    priorities = rows(seeded.engine, "SELECT id, priority FROM buildrequests ORDER BY id")
    assert priorities == [(pending, 5), (running, 0), (done, 0)]


def test_cancel_pending_requests_then_their_buildset(seeded: Seeded) -> None:
    bsid, (first, second) = submit(seeded.engine, [BUILD, TEST])
    perform = seeded.dispatcher.perform

    assert perform(job("cancel_request", brid=first)) == Outcome(False, f"{first}: Ok")
    assert request_row(seeded, first) == (0, 0, None, 1, 6, NOW)
    assert rows(seeded.engine, "SELECT complete FROM buildsets WHERE id = :i", i=bsid) == [(0,)]

    assert perform(job("cancel_request", brid=second)) == Outcome(False, f"{second}: Ok")
    assert rows(
        seeded.engine, "SELECT complete, complete_at FROM buildsets WHERE id = :i", i=bsid
    ) == [(1, NOW)]
    assert perform(job("cancel_request", brid=second)) == Outcome(
        False, f"Request {second} is complete, nothing to do"
    )
    assert perform(job("cancel_request", brid=424_242)) == Outcome(True, "No request with that id")


def test_cancel_of_a_request_claimed_by_an_unknown_master_is_an_error(seeded: Seeded) -> None:
    _bsid, (brid,) = submit(seeded.engine, [BUILD])
    claim(seeded.engine, brid, "elsewhere:/builds/master")
    before = snapshot(seeded.engine)

    outcome = seeded.dispatcher.perform(job("cancel_request", brid=brid))

    assert outcome.errors
    assert outcome.msg.startswith(f"Error cancelling build (request {brid}): no master")
    assert snapshot(seeded.engine) == before


def test_rebuild_request_copies_buildset_and_properties(seeded: Seeded) -> None:
    bsid, (brid,) = submit(seeded.engine, [TEST], external_idstring="ext-1")
    old_ssid = rows(seeded.engine, "SELECT sourcestampid FROM buildsets WHERE id = :i", i=bsid)

    outcome = seeded.dispatcher.perform(job("rebuild_request", brid=brid, count=3, priority=4))

    assert outcome == Outcome(False, "Ok")
    new = rows(
        seeded.engine,
        "SELECT id, external_idstring, sourcestampid, reason, submitted_at, complete "
        "FROM buildsets WHERE id <> :i ORDER BY id",
        i=bsid,
    )
    assert [row[1:] for row in new] == [
        ("ext-1", old_ssid[0][0], f"Self-serve: Rebuilt by {WHO}", NOW, 0)
    ] * 3
    for new_bsid, *_rest in new:
        properties = rows(
            seeded.engine,
            "SELECT property_name, property_value FROM buildset_properties "
            "WHERE buildsetid = :i ORDER BY property_name",
            i=new_bsid,
        )
        assert properties == [(name, json.dumps(list(value))) for name, value in PROPERTIES.items()]
        assert rows(
            seeded.engine,
            "SELECT buildername, priority, claimed_at, claimed_by_name, complete, results, "
            "submitted_at FROM buildrequests WHERE buildsetid = :i",
            i=new_bsid,
        ) == [(TEST, 4, 0, None, 0, None, NOW)]


def test_rebuild_build_starts_from_the_build(seeded: Seeded) -> None:
    _bsid, (brid,) = submit(seeded.engine, [BUILD])
    build_id = claim(seeded.engine, brid, MASTER)
    finish(seeded.engine, brid, results=2)

    assert seeded.dispatcher.perform(
        job("rebuild_build", bid=build_id, count=1, priority=0)
    ) == Outcome(False, "Ok")
    assert rows(seeded.engine, "SELECT buildername, complete FROM buildrequests ORDER BY id") == [
        (BUILD, 1),
        (BUILD, 0),
    ]
    assert seeded.dispatcher.perform(
        job("rebuild_build", bid=31337, count=1, priority=0)
    ) == Outcome(True, "No build with that id")
    assert seeded.dispatcher.perform(job("rebuild_request", brid=31337, count=1, priority=0)) == (
        Outcome(True, "No request with that id")
    )
    assert seeded.dispatcher.perform(job("rebuild_request", brid=brid, count=0, priority=0)).errors
    assert count(seeded.engine, "buildrequests") == 2


def test_the_same_job_twice_acts_once(seeded: Seeded) -> None:
    _bsid, (brid,) = submit(seeded.engine, [BUILD])
    rebuild = job("rebuild_request", brid=brid, count=2, priority=0)

    first = seeded.dispatcher.perform(rebuild)
    again = seeded.dispatcher.perform(rebuild)

    assert first == again == Outcome(False, "Ok")
    assert count(seeded.engine, "buildsets") == 3
    assert rows(seeded.engine, "SELECT job_id, action, errors, msg FROM selfserve_actions") == [
        (rebuild.request_id, "rebuild_request", 0, "Ok")
    ]


def test_a_second_agent_waits_for_the_first_and_answers_its_outcome(
    seeded: Seeded, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Agent A holds the job's marker in an open transaction; agent B, having found no marker,
    runs into it, and must answer A's outcome without acting."""
    _bsid, (brid,) = submit(seeded.engine, [BUILD])
    rebuild = job("rebuild_request", brid=brid, count=1, priority=0)
    inside, checked, release = threading.Event(), threading.Event(), threading.Event()
    real_properties = buildbot08.buildset_properties_of
    effects = []

    def slow_properties(connection, bsid):  # type: ignore[no-untyped-def]
        effects.append(bsid)
        inside.set()
        assert release.wait(30)
        return real_properties(connection, bsid)

    class Watched(Ledger):
        def stored(self, job_id: int) -> Outcome | None:
            stored = super().stored(job_id)
            checked.set()
            return stored

    monkeypatch.setattr(buildbot08, "buildset_properties_of", slow_properties)
    second_engine = make_engine(seeded.engine.url.render_as_string(hide_password=False), settings)
    outcomes: dict[str, Outcome] = {}
    with unreachable_masters() as masters:
        second = dispatcher_of(second_engine, seeded.layout, masters, seeded.clock, ledger=Watched)
        first_agent = threading.Thread(
            target=lambda: outcomes.update(a=seeded.dispatcher.perform(rebuild))
        )
        first_agent.start()
        assert inside.wait(30)
        second_agent = threading.Thread(target=lambda: outcomes.update(b=second.perform(rebuild)))
        second_agent.start()
        assert checked.wait(30)
        release.set()
        first_agent.join(30)
        second_agent.join(30)
    second_engine.dispose()

    assert outcomes == {"a": Outcome(False, "Ok"), "b": Outcome(False, "Ok")}
    assert effects == [1]
    assert count(seeded.engine, "buildsets") == 2
    assert count(seeded.engine, "selfserve_actions") == 1


def test_two_agents_racing_on_a_cancel_act_once(seeded: Seeded, settings: Settings) -> None:
    _bsid, (brid,) = submit(seeded.engine, [BUILD])
    cancel = job("cancel_request", brid=brid)
    second_engine = make_engine(seeded.engine.url.render_as_string(hide_password=False), settings)
    start = threading.Barrier(2)
    outcomes: list[Outcome] = []

    with unreachable_masters() as masters:
        second = dispatcher_of(second_engine, seeded.layout, masters, seeded.clock)

        def run(dispatcher: Dispatcher) -> None:
            start.wait(30)
            outcomes.append(dispatcher.perform(cancel))

        agents = [threading.Thread(target=run, args=(d,)) for d in (seeded.dispatcher, second)]
        for agent in agents:
            agent.start()
        for agent in agents:
            agent.join(30)
    second_engine.dispose()

    assert outcomes == [Outcome(False, f"{brid}: Ok")] * 2
    assert request_row(seeded, brid)[3:5] == (1, 6)
    assert count(seeded.engine, "selfserve_actions") == 1


def test_cancel_revision_cancels_that_branch_only(seeded: Seeded) -> None:
    _bs1, (pending, claimed, done) = submit(seeded.engine, [BUILD, BUILD, TEST])
    _bs2, (on_try,) = submit(seeded.engine, [BUILD], branch="try")
    _bs3, (other_revision,) = submit(seeded.engine, [BUILD], revision="ab" + REVISION[2:][::-1])
    claim(seeded.engine, claimed, "elsewhere:/builds/master")
    finish(seeded.engine, done)

    outcome = seeded.dispatcher.perform(
        job("cancel_revision", branch="mozilla-inbound", revision=REVISION[:12].upper())
    )

    assert outcome.errors  # the claimed request's master is not in the layout
    lines = outcome.msg.split("\n")
    assert lines[0] == f"{pending}: Ok"
    assert lines[1].startswith(f"Error cancelling build (request {claimed})")
    assert len(lines) == 2
    states = rows(seeded.engine, "SELECT id, complete, results FROM buildrequests ORDER BY id")
    assert states == [
        (pending, 1, 6),
        (claimed, 0, None),
        (done, 1, 0),
        (on_try, 0, None),
        (other_revision, 0, None),
    ]
    assert seeded.dispatcher.perform(
        job("cancel_revision", branch="mozilla-inbound", revision="0" * 12)
    ) == Outcome(False, "No incomplete requests at that revision")


def test_cancel_revision_matches_the_short_branch_name_too(seeded: Seeded) -> None:
    _bsid, (brid,) = submit(seeded.engine, [BUILD], branch="mozilla-inbound")
    assert seeded.dispatcher.perform(
        job("cancel_revision", branch="mozilla-inbound", revision=REVISION)
    ) == Outcome(False, f"{brid}: Ok")


def test_unknown_branches_and_bad_revisions_are_answered(seeded: Seeded) -> None:
    perform = seeded.dispatcher.perform
    assert perform(job("cancel_revision", branch="nope", revision=REVISION)) == Outcome(
        True, "Unknown branch nope"
    )
    assert perform(job("cancel_revision", branch="try", revision="abc%")).errors
    assert count(seeded.engine, "selfserve_actions") == 2
    assert count(seeded.engine, "buildrequests") == 0
