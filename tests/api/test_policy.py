"""Who may act on whose work: a self-serve request belongs to its user, a scheduler-made one
to its push's authors; others need the groups of the policy_* keys, and every priority is
capped by the user's ceiling. The job log hides who asked from anonymous readers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import insert

from buildapi.config import load_settings
from buildapi.db.engines import Databases
from buildapi.db.queries.buildrequests import claim_request, insert_build
from buildapi.db.queries.buildsets import NewBuildset, insert_buildset, insert_sourcestamp
from buildapi.db.queries.changes import NewChange, insert_change
from buildapi.db.schema.buildapi import jobrequests
from buildapi.layout import FarmLayout
from tests.conftest import broker_names, make_client
from tests.tokens import make_token

ALICE, BOB, CAROL = "alice@example.com", "bob@example.com", "carol@example.com"
LEGACY = {
    "policy_act_on_others": {"*": ["*"]},
    "policy_act_on_scheduled": {"*": ["*"]},
    "policy_priority_ceiling": {"*": 1000},
}


@dataclass(frozen=True)
class Push:
    """One push by carol: a scheduler-made request, alice's self-serve rebuild of it (with
    a running build) and a second pending rebuild by alice."""

    branch: str
    revision: str
    scheduled: int
    rebuilt: int
    rebuilt_build: int
    pending_rebuild: int


def push(databases: Databases, layout: FarmLayout, branch: str, revision: str) -> Push:
    repo = layout.branches[branch].repo_path
    builder = sorted(layout.builders_for_branch(branch))[0]
    with databases.schedulerdb.begin() as connection:
        change = NewChange(f"Carol <{CAROL}>", "Bug 1 - fix", repo, revision, 1000.0)
        ssid = insert_sourcestamp(connection, repo, revision, [insert_change(connection, change)])

        def request(reason: str) -> int:
            buildset = NewBuildset(reason, 1000.0, [builder], {}, ssid)
            return insert_buildset(connection, buildset)[1][0]

        scheduled = request("scheduler")
        rebuilt = request(f"Self-serve: Rebuilt by {ALICE}")
        pending_rebuild = request(f"Self-serve: Requested by {ALICE}")
        claim_request(connection, rebuilt, 1001.0, "master1", "inc")
        build = insert_build(connection, rebuilt, 1, 1001.0)
    return Push(branch, revision, scheduled, rebuilt, build, pending_rebuild)


@pytest.fixture
def pushes(databases: Databases, layout: FarmLayout) -> dict[str, Push]:
    return {
        "mozilla-inbound": push(databases, layout, "mozilla-inbound", "ab" * 20),
        "try": push(databases, layout, "try", "cd" * 20),
    }


@dataclass(frozen=True)
class Users:
    tokens: dict[str, str]

    def headers(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}", "Accept": "application/json"}


@pytest.fixture
def users(databases: Databases) -> Users:
    groups = {ALICE: (), BOB: (), CAROL: (), "releng@example.com": ("releng",)}
    groups["sheriff@example.com"] = ("sheriffs",)
    return Users({user: make_token(databases, user, found) for user, found in groups.items()})


@pytest.fixture
def connect(tmp_path: Path, databases: Databases, layout: FarmLayout) -> Any:
    """A function of settings overrides that opens a client over the test's databases."""

    @contextmanager
    def client(**overrides: Any) -> Iterator[httpx.Client]:
        settings = load_settings(data_dir=tmp_path / "web", **broker_names(), **overrides)
        with make_client(settings, databases, layout) as opened:
            yield opened

    return client


def cancel_request(
    client: httpx.Client, users: Users, user: str, p: Push, rid: int
) -> httpx.Response:
    return client.delete(f"/self-serve/{p.branch}/request/{rid}", headers=users.headers(user))


def reprioritize(
    client: httpx.Client, users: Users, user: str, p: Push, rid: int, priority: int
) -> httpx.Response:
    return client.put(
        f"/self-serve/{p.branch}/request/{rid}",
        data={"priority": str(priority)},
        headers=users.headers(user),
    )


def test_only_the_user_releng_and_sheriffs_may_act_on_a_self_serve_request(
    connect: Any, users: Users, pushes: dict[str, Push]
) -> None:
    p = pushes["try"]
    with connect() as client:
        refused = cancel_request(client, users, BOB, p, p.rebuilt)
        assert refused.status_code == 403
        assert refused.json() == {
            "status": "FAILED",
            "msg": f"{BOB} may not cancel request {p.rebuilt} of {ALICE} on try;"
            " groups allowed: releng, sheriffs",
        }
        stop = client.delete(f"/self-serve/try/build/{p.rebuilt_build}", headers=users.headers(BOB))
        assert stop.status_code == 403
        assert stop.json()["msg"].startswith(f"{BOB} may not cancel build {p.rebuilt_build} of")
        assert reprioritize(client, users, BOB, p, p.pending_rebuild, 1).status_code == 403
        for user in (ALICE, "releng@example.com", "sheriff@example.com"):
            assert cancel_request(client, users, user, p, p.rebuilt).status_code == 202, user
            stop = client.delete(
                f"/self-serve/try/build/{p.rebuilt_build}", headers=users.headers(user)
            )
            assert stop.status_code == 202, user
            assert reprioritize(client, users, user, p, p.pending_rebuild, 1).status_code == 202


def test_scheduler_made_requests_are_open_by_default_and_their_pushers_always(
    connect: Any, users: Users, pushes: dict[str, Push]
) -> None:
    p = pushes["mozilla-inbound"]
    with connect() as client:
        assert cancel_request(client, users, BOB, p, p.scheduled).status_code == 202
    with connect(policy_act_on_scheduled={"*": ["releng"]}) as client:
        refused = cancel_request(client, users, BOB, p, p.scheduled)
        assert refused.status_code == 403
        assert refused.json()["msg"] == (
            f"{BOB} may not cancel request {p.scheduled}, made by the scheduler for a push by"
            f" Carol <{CAROL}>, on mozilla-inbound; groups allowed: releng"
        )
        # carol pushed it (the change names her as "Carol <address>")
        assert cancel_request(client, users, CAROL, p, p.scheduled).status_code == 202
        assert (
            cancel_request(client, users, "releng@example.com", p, p.scheduled).status_code == 202
        )
        # a self-serve rebuild of carol's push is alice's, not carol's
        assert cancel_request(client, users, CAROL, p, p.rebuilt).status_code == 403


def test_priority_ceiling(connect: Any, users: Users, pushes: dict[str, Push]) -> None:
    p = pushes["mozilla-inbound"]
    with connect() as client:
        above = reprioritize(client, users, BOB, p, p.scheduled, 11)
        assert above.status_code == 403
        assert (
            above.json()["msg"] == f"{BOB} may not set priority 11: the highest they may set is 10"
        )
        assert reprioritize(client, users, BOB, p, p.scheduled, 10).status_code == 202
        assert reprioritize(client, users, BOB, p, p.scheduled, -1000).status_code == 202
        releng = reprioritize(client, users, "releng@example.com", p, p.scheduled, 1000)
        assert releng.status_code == 202
        # the ceiling also caps new work: a rebuild of another's build, and new builds
        bob = users.headers(BOB)
        for priority, code in ((10, 202), (11, 403)):
            rebuild = client.post(
                f"/self-serve/{p.branch}/build",
                data={"build_id": str(p.rebuilt_build), "priority": str(priority)},
                headers=bob,
            )
            assert rebuild.status_code == code, rebuild.text
        builder = "No Such Builder"
        for path in (
            f"rev/{p.revision}/nightly",
            f"rev/{p.revision}/pgo",
            f"builders/{builder}/{p.revision}",
        ):
            # the ceiling comes before the 404 of an unknown builder
            answer = client.post(
                f"/self-serve/{p.branch}/{path}", data={"priority": "11"}, headers=bob
            )
            assert (
                answer.status_code == 403 and "highest they may set is 10" in answer.json()["msg"]
            )


def test_legacy_settings_let_anyone_do_anything(
    connect: Any, users: Users, pushes: dict[str, Push]
) -> None:
    p = pushes["try"]
    with connect(**LEGACY) as client:
        assert reprioritize(client, users, BOB, p, p.pending_rebuild, 999).status_code == 202
        assert cancel_request(client, users, BOB, p, p.rebuilt).status_code == 202
        stop = client.delete(f"/self-serve/try/build/{p.rebuilt_build}", headers=users.headers(BOB))
        assert stop.status_code == 202
        revision = client.delete(f"/self-serve/try/rev/{p.revision}", headers=users.headers(BOB))
        assert revision.status_code == 202


def test_a_branch_entry_overrides_the_default(
    connect: Any, users: Users, pushes: dict[str, Push]
) -> None:
    with connect(policy_act_on_others={"*": ["releng"], "try": ["*"]}) as client:
        inbound, try_push = pushes["mozilla-inbound"], pushes["try"]
        assert cancel_request(client, users, BOB, try_push, try_push.rebuilt).status_code == 202
        refused = cancel_request(client, users, BOB, inbound, inbound.rebuilt)
        assert refused.status_code == 403 and refused.json()["msg"].endswith(
            "groups allowed: releng"
        )
        # sheriffs lost the default entry's right too
        sheriff = cancel_request(client, users, "sheriff@example.com", inbound, inbound.rebuilt)
        assert sheriff.status_code == 403
    with connect(policy_priority_ceiling={"*": 0, "sheriffs": 50, "releng": 20}) as client:
        p = pushes["mozilla-inbound"]
        assert reprioritize(client, users, BOB, p, p.scheduled, 1).status_code == 403
        assert (
            reprioritize(client, users, "sheriff@example.com", p, p.scheduled, 50).status_code
            == 202
        )


def test_cancelling_a_revision_is_all_or_nothing(
    connect: Any, users: Users, pushes: dict[str, Push]
) -> None:
    p = pushes["try"]
    path = f"/self-serve/try/rev/{p.revision}"
    with connect() as client:
        refused = client.delete(path, headers=users.headers(BOB))
        assert refused.status_code == 403
        assert refused.json()["msg"] == (
            f"{BOB} may not cancel revision {p.revision} on try: 2 of its 3 incomplete requests"
            " are not theirs; groups allowed: releng, sheriffs"
        )
        # alice owns both rebuilds, and anyone may cancel the scheduler's request
        assert client.delete(path, headers=users.headers(ALICE)).status_code == 202
        assert client.delete(path, headers=users.headers("releng@example.com")).status_code == 202


def test_an_unknown_request_is_404_before_any_policy(
    connect: Any, users: Users, pushes: dict[str, Push]
) -> None:
    with connect(policy_act_on_scheduled={"*": []}) as client:
        gone = client.delete("/self-serve/try/request/999999", headers=users.headers(BOB))
        assert gone.status_code == 404


def add_job(databases: Databases, who: str) -> int:
    with databases.buildapi_db.begin() as connection:
        return int(
            connection.execute(
                insert(jobrequests).values(
                    action="cancel_request",
                    who=who,
                    when=100,
                    what=json.dumps({"brid": 3}),
                    branch="try",
                    complete_data=None,
                    state="recorded",
                    completed_at=None,
                    attempts=0,
                )
            ).inserted_primary_key[0]
        )


def test_the_job_log_hides_who_from_anonymous_readers(
    connect: Any, users: Users, databases: Databases
) -> None:
    job_id = add_job(databases, ALICE)
    anonymous = {"Accept": "application/json"}
    with connect() as client:
        listed = client.get("/self-serve/jobs", headers=anonymous).json()
        assert [job["who"] for job in listed] == [None]
        assert client.get(f"/self-serve/jobs/{job_id}", headers=anonymous).json()["who"] is None
        for path in ("/self-serve/jobs", f"/self-serve/jobs/{job_id}"):
            page = client.get(path, headers={"Accept": "text/html"}).text
            marker = "hidden" if path.endswith("/jobs") else "shown to signed-in users only"
            assert ALICE not in page and marker in page
        probe = client.get(f"/self-serve/jobs?who={ALICE}", headers=anonymous)
        assert probe.status_code == 401 and "filter jobs by who" in probe.json()["msg"]
        signed_in = users.headers(BOB)
        assert [job["who"] for job in client.get("/self-serve/jobs", headers=signed_in).json()] == [
            ALICE
        ]
        assert (
            client.get(f"/self-serve/jobs?who={ALICE}", headers=signed_in).json()[0]["id"] == job_id
        )
        page = client.get("/self-serve/jobs", headers={**signed_in, "Accept": "text/html"}).text
        assert f"<td>{ALICE}</td>" in page
    with connect(jobs_show_who="everyone") as client:
        assert client.get(f"/self-serve/jobs/{job_id}", headers=anonymous).json()["who"] == ALICE
        assert len(client.get(f"/self-serve/jobs?who={ALICE}", headers=anonymous).json()) == 1
