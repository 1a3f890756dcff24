"""Every self-serve action, from the HTTP request through the broker and the agent, carried out
on a real Buildbot 0.8.2 master, checked in what the master then did and wrote."""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy import select

from buildapi.agent.backend import RunningBuild
from buildapi.agent.buildbot08 import Buildbot08Backend
from buildapi.agent.ledger import Ledger
from buildapi.agent.masters import MastersClient
from buildapi.agent.stopping import StopEnd, Stopper
from buildapi.clock import SystemClock
from buildapi.db.schema.scheduler import buildrequests, buildset_properties, buildsets, changes
from tests.realmaster.conftest import USER, Contract
from tests.realmaster.harness import BRANCH, SCHEDULED

SUCCESS, FAILURE, CANCELLED = 0, 2, 6
OK = {"errors": False, "msg": "Ok"}
BUILDER, OTHER_BUILDER = SCHEDULED
TEST_BUILDER = "Ubuntu VM 12.04 mozilla-central opt test mochitest-1"

pytestmark = pytest.mark.usefixtures("settled")


def push(contract: Contract, revision: str) -> dict[str, int]:
    """New builds at `revision`: the change goes through the master's change hook and its
    scheduler makes one request per builder; their ids by builder."""
    assert contract.act("POST", f"/self-serve/{BRANCH}/rev/{revision}") == OK
    contract.wait(
        lambda: len(contract.requests_of(revision)) == len(SCHEDULED),
        f"the scheduler's requests at {revision}",
    )
    return {request.buildername: request.id for request in contract.requests_of(revision)}


def running(contract: Contract) -> tuple[str, dict[str, int]]:
    """A revision whose builds run (its gate stays closed)."""
    revision = contract.revision()
    brids = push(contract, revision)
    for brid in brids.values():
        contract.wait_running(brid)
    return revision, brids


def finished(contract: Contract) -> tuple[str, dict[str, int]]:
    revision, brids = running(contract)
    contract.master.open_gate(revision)
    for brid in brids.values():
        assert contract.wait_complete(brid).results == SUCCESS
    return revision, brids


def pending(contract: Contract) -> tuple[str, dict[str, int], str]:
    """A revision whose requests wait because both builders are busy with another revision
    (returned third: open its gate to free them)."""
    busy, _brids = running(contract)
    revision = contract.revision()
    brids = push(contract, revision)
    for brid in brids.values():
        assert contract.request(brid).claimed_at == 0
    return revision, brids, busy


def new_requests(contract: Contract, before: set[int]) -> list:
    return [row for row in contract.rows(select(buildrequests)) if row.id not in before]


def request_ids(contract: Contract) -> set[int]:
    return {row.id for row in contract.rows(select(buildrequests.c.id))}


def test_new_build_at_revision_is_a_change_the_master_schedules(contract: Contract) -> None:
    revision, brids = finished(contract)
    (change,) = contract.rows(select(changes).where(changes.c.revision == revision))
    assert change.author == USER
    assert change.repository == contract.layout.branches[BRANCH].repo
    assert change.branch == contract.layout.branches[BRANCH].repo_path
    assert set(brids) == set(SCHEDULED)
    for brid in brids.values():
        assert contract.request(brid).claimed_by_name == contract.master.name


def test_rebuild_a_build_n_times_runs_them_merged(contract: Contract) -> None:
    _revision, brids = finished(contract)
    source = contract.request(brids[BUILDER])
    (build,) = contract.builds_of(source.id)
    before = request_ids(contract)
    answer = contract.act(
        "POST", f"/self-serve/{BRANCH}/build", data={"build_id": build.id, "count": 3}
    )
    assert answer == OK
    rebuilt = new_requests(contract, before)
    assert [request.buildername for request in rebuilt] == [BUILDER] * 3
    stamps = {contract.sourcestamp_of(request.buildsetid) for request in rebuilt}
    assert stamps == {contract.sourcestamp_of(source.buildsetid)}
    for request in rebuilt:
        assert contract.wait_complete(request.id).results == SUCCESS
    # The master merged the requests of one sourcestamp: one number, a builds row each.
    numbers = {row.number for request in rebuilt for row in contract.builds_of(request.id)}
    assert len(numbers) == 1 and numbers != {build.number}


def test_rebuild_a_request(contract: Contract) -> None:
    _revision, brids = finished(contract)
    before = request_ids(contract)
    answer = contract.act(
        "POST", f"/self-serve/{BRANCH}/request", data={"request_id": brids[OTHER_BUILDER]}
    )
    assert answer == OK
    (rebuilt,) = new_requests(contract, before)
    assert rebuilt.buildername == OTHER_BUILDER
    assert contract.wait_complete(rebuilt.id).results == SUCCESS


def test_cancel_a_pending_request_is_never_run(contract: Contract) -> None:
    revision, brids, busy = pending(contract)
    answer = contract.act("DELETE", f"/self-serve/{BRANCH}/request/{brids[BUILDER]}")
    assert answer == {"errors": False, "msg": f"{brids[BUILDER]}: Ok"}
    cancelled = contract.request(brids[BUILDER])
    assert (cancelled.complete, cancelled.results) == (1, CANCELLED)
    contract.master.open_gate(busy)
    contract.master.open_gate(revision)
    # The other request of the revision runs once the builder is free; the cancelled one never.
    assert contract.wait_complete(brids[OTHER_BUILDER]).results == SUCCESS
    assert contract.builds_of(brids[BUILDER]) == []
    assert contract.request(brids[BUILDER]).results == CANCELLED


def test_cancel_a_running_build_stops_it_on_the_master(contract: Contract) -> None:
    _revision, brids = running(contract)
    build = contract.builds_of(brids[BUILDER])[-1]
    answer = contract.act("DELETE", f"/self-serve/{BRANCH}/build/{build.id}")
    assert answer == OK
    # A real 0.8.2 master ends a stopped build's request with the result it chooses: FAILURE.
    stopped = contract.wait_complete(brids[BUILDER])
    assert stopped.results == FAILURE
    assert {"slave": "slave1", "buildername": BUILDER} in contract.clobberer.received
    assert contract.request(brids[OTHER_BUILDER]).complete == 0


def test_cancel_a_finished_build_or_request_is_refused(contract: Contract) -> None:
    _revision, brids = finished(contract)
    build = contract.builds_of(brids[BUILDER])[-1]
    assert contract.refuse("DELETE", f"/self-serve/{BRANCH}/build/{build.id}") == {
        "code": 409,
        "status": "FAILED",
        "msg": f"Cannot cancel build {build.id}: it is complete, not running",
    }
    brid = brids[OTHER_BUILDER]
    assert contract.refuse("DELETE", f"/self-serve/{BRANCH}/request/{brid}") == {
        "code": 409,
        "status": "FAILED",
        "msg": f"Cannot cancel request {brid}: it is complete, not pending or running",
    }
    assert contract.request(brids[BUILDER]).results == SUCCESS
    assert contract.request(brid).results == SUCCESS


def test_cancel_a_revision_ends_running_and_pending_requests(contract: Contract) -> None:
    revision, pending_brids, busy = pending(contract)
    running_brids = [request.id for request in contract.requests_of(busy)]
    # Pending first: stopping the running builds frees the builders for the pending requests.
    for target in (revision, busy):
        answer = contract.act("DELETE", f"/self-serve/{BRANCH}/rev/{target}")
        assert answer["errors"] is False, answer
    for brid in pending_brids.values():
        assert contract.request(brid).results == CANCELLED
    for brid in running_brids:
        assert contract.wait_complete(brid).results == FAILURE


def pgo(contract: Contract, revision: str) -> dict[str, int]:
    """PGO builds at `revision`; their sourcestamps carry no changes, so the master merges
    them with no other revision's."""
    answer = contract.act("POST", f"/self-serve/{BRANCH}/rev/{revision}/pgo")
    assert answer == OK
    return {request.buildername: request.id for request in contract.requests_of(revision)}


def test_reprioritize_makes_the_master_pick_it_first(contract: Contract) -> None:
    busy = contract.revision()
    for brid in pgo(contract, busy).values():
        contract.wait_running(brid)
    early = pgo(contract, contract.revision())
    late_revision = contract.revision()
    late = pgo(contract, late_revision)
    builder = sorted(late)[0]
    answer = contract.act(
        "PUT", f"/self-serve/{BRANCH}/request/{late[builder]}", data={"priority": 10}
    )
    assert answer == OK
    assert contract.request(late[builder]).priority == 10
    contract.master.open_gate(busy)
    # The builder's next build is the reprioritized request, though it was submitted later.
    contract.wait_running(late[builder])
    assert contract.request(early[builder]).claimed_at == 0
    contract.master.open_gate(late_revision)
    contract.wait_running(early[builder])


def test_nightly_and_pgo_builds_run_on_their_builders(contract: Contract) -> None:
    for action, suffix in (("nightly", " nightly"), ("pgo", " pgo-build")):
        revision = contract.revision()
        answer = contract.act(
            "POST", f"/self-serve/{BRANCH}/rev/{revision}/{action}", data={"priority": 2}
        )
        assert answer == OK
        requests = contract.requests_of(revision)
        assert requests and all(row.buildername.endswith(suffix) for row in requests)
        assert {row.priority for row in requests} == {2}
        contract.master.open_gate(revision)
        for row in requests:
            assert contract.wait_complete(row.id).results == SUCCESS


def test_new_build_for_builder_runs_with_its_properties(contract: Contract) -> None:
    revision = contract.revision()
    answer = contract.act(
        "POST",
        f"/self-serve/{BRANCH}/builders/{TEST_BUILDER}/{revision}",
        data={"properties": json.dumps({"flavour": "plain"}), "files": "[]", "priority": 1},
    )
    assert answer == OK
    (request,) = contract.requests_of(revision)
    build = contract.wait_running(request.id)
    # The master reads the buildset's properties into the build it runs.
    status = httpx.get(
        f"{contract.master.url}/json/builders/{TEST_BUILDER}/builds/{build.number}", timeout=10
    ).json()
    properties = {name: value for name, value, _source in status["properties"]}
    assert properties["flavour"] == "plain"
    assert properties["revision"] == revision
    stored = contract.rows(
        select(buildset_properties).where(buildset_properties.c.buildsetid == request.buildsetid)
    )
    assert json.loads({row.property_name: row.property_value for row in stored}["flavour"]) == [
        "plain",
        "self-serve",
    ]
    contract.master.open_gate(revision)
    assert contract.wait_complete(request.id).results == SUCCESS
    assert (
        contract.rows(select(buildsets.c.complete).where(buildsets.c.id == request.buildsetid))[
            0
        ].complete
        == 1
    )


def test_a_build_the_master_starts_for_a_cancelled_request_is_stopped(contract: Contract) -> None:
    """The claim race: a 0.8.2 master reads the unclaimed requests, then claims them with an
    UPDATE that does not check `complete`, so a request cancelled in between still runs. The
    master is held in that window while the agent cancels."""
    revision = contract.revision()
    with contract.master.claims_held():
        brids = push(contract, revision)
        brid = brids[BUILDER]
        contract.wait(
            lambda: any(brid in held for held in contract.master.held_claims()),
            "the master holding its claim",
        )
        answer = contract.act("DELETE", f"/self-serve/{BRANCH}/request/{brid}")
        assert answer == {"errors": False, "msg": f"{brid}: Ok"}
        assert contract.request(brid).results == CANCELLED
    # Released, the master claims the cancelled request and starts its build anyway...
    build = contract.wait_running(brid)
    # ...and the agent stops it: the build ends though its gate never opens.
    contract.wait(
        lambda: contract.builds_of(brid)[-1].finish_time is not None,
        "the agent stopping the build of a cancelled request",
    )
    assert contract.builds_of(brid)[-1].id == build.id
    assert contract.request(brid).complete == 1
    assert contract.request(brids[OTHER_BUILDER]).complete == 0


def test_a_stop_of_a_finished_build_reads_as_finished(contract: Contract) -> None:
    """A real master redirects a stop of a finished build like any other; the records say
    the build had ended on its own."""
    _revision, brids = finished(contract)
    brid = brids[BUILDER]
    build = RunningBuild(contract.layout.masters[0], BUILDER, contract.builds_of(brid)[-1].number)
    with MastersClient(10.0, contract.clobberer.url) as masters:
        masters.stop_build(build.master, BUILDER, build.number, USER, "late")
        ledger = Ledger(contract.databases.schedulerdb, SystemClock())
        stopper = Stopper(ledger, Buildbot08Backend(contract.layout, masters), 10.0)
        assert stopper.stop(brid, build, USER, "late") is StopEnd.FINISHED
    assert contract.request(brid).results == SUCCESS
