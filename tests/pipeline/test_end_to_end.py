"""Every action from the HTTP request to its effect on the farm and the job's answer: web ->
broker (in-process) -> agent -> scheduler database or masters -> result -> job page."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from buildapi.agent.launch import agent_in_background
from buildapi.db.queries.jobrequests import NewJob, Sending
from buildapi.db.schema.scheduler import (
    buildrequests,
    builds,
    buildset_properties,
    buildsets,
    changes,
    sourcestamps,
)
from buildapi.selfserve.broker import Broker
from buildapi.selfserve.jobs import JobPipeline
from tests.pipeline.conftest import USER, Farmed, seeded_farm, web_client

BRANCH = "mozilla-inbound"
REPO = "integration/mozilla-inbound"
CANCELLED, FAILURE = 6, 2


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Farmed, httpx.Client, dict]]:
    with (
        seeded_farm(tmp_path_factory.mktemp("e2e")) as farmed,
        web_client(farmed) as (client, headers),
        agent_in_background(farmed.settings, farmed.databases, farmed.layout),
    ):
        yield farmed, client, headers


def act(system: tuple[Farmed, httpx.Client, dict], method: str, path: str, **kwargs: Any) -> dict:
    """Send the request, check the 202, and return the agent's answer once it is stored."""
    farmed, client, headers = system
    response = client.request(method, path, headers=headers, **kwargs)
    assert response.status_code == 202, response.text
    job_id = response.json()["request_id"]
    answer = farmed.wait_for_job(job_id)
    page = client.get(f"/self-serve/jobs/{job_id}?format=json").json()
    assert page["completed_at"] is not None and page["complete_data"]["body"] == answer
    return answer


def requests_of(farmed: Farmed, *, claimed: bool, builder_like: str = "%") -> list[Any]:
    query = (
        select(buildrequests)
        .join(buildsets, buildsets.c.id == buildrequests.c.buildsetid)
        .join(sourcestamps, sourcestamps.c.id == buildsets.c.sourcestampid)
        .where(
            sourcestamps.c.branch == REPO,
            buildrequests.c.complete == 0,
            (buildrequests.c.claimed_at > 0) if claimed else (buildrequests.c.claimed_at == 0),
            buildrequests.c.buildername.like(builder_like),
        )
        .order_by(buildrequests.c.id)
    )
    with farmed.databases.schedulerdb.connect() as connection:
        return list(connection.execute(query))


def request_row(farmed: Farmed, brid: int) -> Any:
    with farmed.databases.schedulerdb.connect() as connection:
        return connection.execute(select(buildrequests).where(buildrequests.c.id == brid)).one()


def test_rebuild_build_makes_count_new_requests(system) -> None:  # type: ignore[no-untyped-def]
    farmed = system[0]
    brid = requests_of(farmed, claimed=True)[0].id
    build_id = farmed.scalar(select(builds.c.id).where(builds.c.brid == brid))
    old = request_row(farmed, brid)
    reason = f"Self-serve: Rebuilt by {USER}"
    before = farmed.count(buildsets, buildsets.c.reason == reason)
    answer = act(
        system, "POST", f"/self-serve/{BRANCH}/build", data={"build_id": build_id, "count": 2}
    )
    assert answer == {"errors": False, "msg": "Ok"}
    assert farmed.count(buildsets, buildsets.c.reason == reason) == before + 2
    new = requests_of(farmed, claimed=False, builder_like=old.buildername)[-2:]
    assert all(row.id > brid and row.claimed_by_name is None for row in new)


def test_reprioritize_then_cancel_a_pending_request(system) -> None:  # type: ignore[no-untyped-def]
    farmed = system[0]
    brid = requests_of(farmed, claimed=False)[0].id
    answer = act(system, "PUT", f"/self-serve/{BRANCH}/request/{brid}", data={"priority": 7})
    assert answer["errors"] is False and request_row(farmed, brid).priority == 7
    answer = act(system, "DELETE", f"/self-serve/{BRANCH}/request/{brid}")
    assert answer == {"errors": False, "msg": f"{brid}: Ok"}
    row = request_row(farmed, brid)
    assert (row.complete, row.results, row.claimed_at) == (1, CANCELLED, 0)


def test_cancel_a_running_build_stops_it_on_its_master(system) -> None:  # type: ignore[no-untyped-def]
    farmed = system[0]
    running = [row for row in requests_of(farmed, claimed=True) if " test " not in row.buildername]
    brid = running[0].id
    build_id = farmed.scalar(select(builds.c.id).where(builds.c.brid == brid))
    clobbers = len(farmed.farm.clobbers)
    answer = act(system, "DELETE", f"/self-serve/{BRANCH}/build/{build_id}")
    assert answer["errors"] is False, answer
    row = request_row(farmed, brid)
    assert row.complete == 1 and row.results == FAILURE  # a stopped build fails
    assert farmed.scalar(select(builds.c.finish_time).where(builds.c.id == build_id)) is not None
    assert len(farmed.farm.clobbers) == clobbers + 1  # a build slave is clobbered first


def test_cancel_revision_cancels_every_unfinished_job(system) -> None:  # type: ignore[no-untyped-def]
    farmed = system[0]
    revision = requests_of(farmed, claimed=False)[-1]
    ssid = farmed.scalar(
        select(buildsets.c.sourcestampid).where(buildsets.c.id == revision.buildsetid)
    )
    rev = farmed.scalar(select(sourcestamps.c.revision).where(sourcestamps.c.id == ssid))
    answer = act(system, "DELETE", f"/self-serve/{BRANCH}/rev/{rev}")
    assert answer["errors"] is False, answer
    left = farmed.count(
        buildrequests,
        buildrequests.c.buildsetid.in_(
            select(buildsets.c.id)
            .join(sourcestamps, sourcestamps.c.id == buildsets.c.sourcestampid)
            .where(sourcestamps.c.revision == rev, sourcestamps.c.branch == REPO)
        ),
        buildrequests.c.complete == 0,
    )
    assert left == 0


def test_new_builds_at_a_revision(system) -> None:  # type: ignore[no-untyped-def]
    farmed = system[0]
    rev = farmed.scalar(select(sourcestamps.c.revision).where(sourcestamps.c.branch == REPO))
    reason = f"Self-serve: Requested by {USER}"
    answer = act(system, "POST", f"/self-serve/{BRANCH}/rev/{rev}/pgo", data={"priority": 2})
    assert answer == {"errors": False, "msg": "Ok"}
    pgo = requests_of(farmed, claimed=False, builder_like="% pgo-build")
    assert {row.buildername for row in pgo if row.priority == 2} == {
        name for name in farmed.layout.builders_for_branch(BRANCH) if name.endswith(" pgo-build")
    }
    assert farmed.count(buildsets, buildsets.c.reason == reason) == 1
    before = farmed.count(changes, changes.c.revision == rev)
    answer = act(system, "POST", f"/self-serve/{BRANCH}/rev/{rev}")
    assert answer["errors"] is False, answer
    assert farmed.count(changes, changes.c.revision == rev) == before + 1


def test_new_build_for_builder_with_properties(system) -> None:  # type: ignore[no-untyped-def]
    farmed = system[0]
    builder = sorted(farmed.layout.builders_for_branch(BRANCH))[0]
    rev = "ab" * 20
    answer = act(
        system,
        "POST",
        f"/self-serve/{BRANCH}/builders/{builder}/{rev}",
        json={"properties": {"answer": 42}, "files": ["tests.zip"], "priority": 3},
    )
    assert answer == {"errors": False, "msg": "Ok"}
    with farmed.databases.schedulerdb.connect() as connection:
        request = connection.execute(
            select(buildrequests).order_by(buildrequests.c.id.desc()).limit(1)
        ).one()
        properties = dict(
            connection.execute(
                select(
                    buildset_properties.c.property_name, buildset_properties.c.property_value
                ).where(buildset_properties.c.buildsetid == request.buildsetid)
            ).all()
        )
    assert request.buildername == builder and request.priority == 3
    assert json.loads(properties["answer"]) == [42, "self-serve"]
    assert {"buildid", "builduid"} <= set(properties)


def test_a_build_over_since_the_check_is_the_agents_to_answer(system) -> None:  # type: ignore[no-untyped-def]
    """The web refuses a cancel of a finished build (409); a build that finishes between the
    web's check and the agent is answered by the agent, on the job's page."""
    farmed, client, headers = system
    finished = farmed.scalar(
        select(buildrequests.c.id)
        .join(buildsets, buildsets.c.id == buildrequests.c.buildsetid)
        .join(sourcestamps, sourcestamps.c.id == buildsets.c.sourcestampid)
        .where(
            sourcestamps.c.branch == REPO,
            buildrequests.c.complete == 1,
            buildrequests.c.claimed_at > 0,
        )
    )
    build_id = farmed.scalar(select(builds.c.id).where(builds.c.brid == finished))
    refused = client.delete(f"/self-serve/{BRANCH}/build/{build_id}", headers=headers)
    assert refused.status_code == 409, refused.text
    # The same cancel as the web records it when the build was still running at its check;
    # the app's relay sends it.
    pipeline = JobPipeline(farmed.databases, Broker(farmed.settings), 60.0, Sending(60, 8), 60)
    job = NewJob("cancel_build", USER, BRANCH, {"bid": build_id}, int(time.time()))
    job_id = pipeline.submit(job)
    answer = farmed.wait_for_job(job_id)
    assert answer == {"errors": False, "msg": "Build is complete, nothing to do"}
    page = client.get(f"/self-serve/jobs/{job_id}?format=json").json()
    assert page["complete_data"]["body"] == answer
