"""Actions that reach the masters over HTTP, against the simulated farm's web interface."""

from __future__ import annotations

from buildapi.agent.masters import MastersClient
from buildapi.farm.server import free_ports
from buildapi.selfserve.messages import Outcome
from buildapi.vocabulary import Result
from tests.unit.agent.conftest import (
    BUILD,
    REVISION,
    TEST,
    WHO,
    AgentFarm,
    count,
    dispatcher_of,
    job,
    rows,
    snapshot,
    submit,
)


def build_id_of(agent_farm: AgentFarm, brid: int) -> int:
    return rows(agent_farm.engine, "SELECT id FROM builds WHERE brid = :b", b=brid)[0][0]


def request_result(agent_farm: AgentFarm, brid: int) -> tuple:
    return rows(
        agent_farm.engine, "SELECT complete, results FROM buildrequests WHERE id = :b", b=brid
    )[0]


def test_cancel_build_clobbers_a_build_builder_then_stops_it(served_farm: AgentFarm) -> None:
    _bsid, (brid,) = submit(served_farm.engine, [BUILD])
    running = served_farm.running(brid)

    outcome = served_farm.dispatcher.perform(
        job("cancel_build", bid=build_id_of(served_farm, brid))
    )

    assert outcome == Outcome(False, "Ok")
    assert [(c.slave, c.buildername) for c in served_farm.farm.clobbers] == [(running.slave, BUILD)]
    assert running.key not in served_farm.farm.running
    assert request_result(served_farm, brid) == (1, Result.FAILURE)


def test_cancel_build_of_a_test_builder_does_not_clobber(served_farm: AgentFarm) -> None:
    _bsid, (brid,) = submit(served_farm.engine, [TEST])
    served_farm.running(brid)
    bid = build_id_of(served_farm, brid)

    assert served_farm.dispatcher.perform(job("cancel_build", bid=bid)) == Outcome(False, "Ok")
    assert served_farm.farm.clobbers == []
    assert request_result(served_farm, brid) == (1, Result.FAILURE)
    assert served_farm.dispatcher.perform(job("cancel_build", bid=bid)) == Outcome(
        False, "Build is complete, nothing to do"
    )
    assert served_farm.dispatcher.perform(job("cancel_build", bid=10**6)) == Outcome(
        True, "No build with that id"
    )


def test_a_failed_clobber_means_no_stop(served_farm: AgentFarm) -> None:
    _bsid, (brid,) = submit(served_farm.engine, [BUILD])
    running = served_farm.running(brid)
    before = snapshot(served_farm.engine)
    (closed,) = free_ports(1)
    with MastersClient(5.0, f"http://127.0.0.1:{closed}/clobberer") as masters:
        farm = served_farm.farm
        dispatcher = dispatcher_of(farm.databases.schedulerdb, farm.layout, masters, farm.clock)
        outcome = dispatcher.perform(job("cancel_build", bid=build_id_of(served_farm, brid)))

    assert outcome.errors
    assert outcome.msg.startswith(f"Error cancelling build {build_id_of(served_farm, brid)}: ")
    assert "clobberer" in outcome.msg
    assert running.key in served_farm.farm.running
    assert snapshot(served_farm.engine) == before


def test_master_unreachable_leaves_the_database_unchanged(quiet_farm: AgentFarm) -> None:
    _bsid, (brid,) = submit(quiet_farm.engine, [TEST])
    quiet_farm.running(brid)
    cancel = job("cancel_build", bid=build_id_of(quiet_farm, brid))
    before = snapshot(quiet_farm.engine)

    outcome = quiet_farm.dispatcher.perform(cancel)

    assert outcome.errors
    assert outcome.msg.startswith("Error cancelling build")
    assert "cannot reach bm2" in outcome.msg
    assert snapshot(quiet_farm.engine) == before
    assert quiet_farm.dispatcher.perform(cancel) == outcome
    assert rows(quiet_farm.engine, "SELECT job_id, errors, msg FROM selfserve_actions") == [
        (cancel.request_id, 1, outcome.msg)
    ]


def test_cancel_of_a_request_claimed_meanwhile_stops_its_build(served_farm: AgentFarm) -> None:
    """The web saw the request pending; by the time the agent runs, a master has claimed it."""
    _bsid, (brid,) = submit(served_farm.engine, [BUILD])
    running = served_farm.running(brid)
    cancel = job("cancel_request", brid=brid)

    outcome = served_farm.dispatcher.perform(cancel)

    where = f"build {running.number} on {running.master.name}"
    assert outcome == Outcome(False, f"{brid}: Ok (it was running; stopped {where})")
    assert request_result(served_farm, brid) == (1, Result.FAILURE)
    assert len(served_farm.farm.clobbers) == 1
    assert served_farm.dispatcher.perform(cancel) == outcome
    assert len(served_farm.farm.clobbers) == 1


def test_cancel_revision_cancels_pending_and_stops_running(served_farm: AgentFarm) -> None:
    _bs1, (claimed,) = submit(served_farm.engine, [TEST])
    served_farm.running(claimed)
    _bs2, (pending,) = submit(served_farm.engine, ["Linux x86-64 mozilla-inbound pgo-build"])

    outcome = served_farm.dispatcher.perform(
        job("cancel_revision", branch="mozilla-inbound", revision=REVISION[:12])
    )

    assert not outcome.errors
    lines = outcome.msg.split("\n")
    assert lines[0].startswith(f"{claimed}: Ok (it was running; stopped build")
    assert lines[1] == f"{pending}: Ok"
    assert request_result(served_farm, claimed) == (1, Result.FAILURE)
    assert request_result(served_farm, pending) == (1, 6)


def test_a_stop_of_a_finished_build_answers_like_any_stop(served_farm: AgentFarm) -> None:
    """Like a real master, the farm redirects whether or not the build still runs; the
    database says what happened."""
    _bsid, (brid,) = submit(served_farm.engine, [TEST])
    running = served_farm.running(brid)
    stop = (running.master, TEST, running.number, WHO, "test")
    served_farm.masters.stop_build(*stop)
    assert request_result(served_farm, brid) == (1, Result.FAILURE)
    served_farm.masters.stop_build(*stop)
    assert request_result(served_farm, brid) == (1, Result.FAILURE)


def test_new_build_at_revision_sends_one_change(served_farm: AgentFarm) -> None:
    send = job("new_build_at_revision", branch="mozilla-inbound", revision=REVISION)

    assert served_farm.dispatcher.perform(send) == Outcome(False, "Ok")
    assert served_farm.dispatcher.perform(send) == Outcome(False, "Ok")

    assert rows(
        served_farm.engine, "SELECT author, comments, branch, revision, revlink FROM changes"
    ) == [
        (
            WHO,
            "Submitted via self-serve",
            "integration/mozilla-inbound",
            REVISION,
            f"https://hg.mozilla.org/integration/mozilla-inbound/rev/{REVISION}",
        )
    ]
    assert count(served_farm.engine, "buildsets") == 0


def test_new_build_at_revision_with_masters_down(quiet_farm: AgentFarm) -> None:
    outcome = quiet_farm.dispatcher.perform(
        job("new_build_at_revision", branch="try", revision=REVISION)
    )
    assert outcome.errors
    assert outcome.msg.startswith("Error sending the change: cannot reach bm10-try1")
    assert count(quiet_farm.engine, "changes") == 0
