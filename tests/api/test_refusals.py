"""Writes the agent could only answer with "nothing to do" are refused before anything is
recorded: new builds at an unknown revision (404, unless write_allow_unknown_revisions), nightly
or PGO builds on a branch without such builders (400), a cancel of a finished build or request
(409). Refused, they record no job and use none of the user's quota; HTML clients get the same
status on an error page."""

from __future__ import annotations

import httpx
import pytest

from buildapi.farm.farm import Farm
from buildapi.layout import PeriodicKind, periodic_builders
from tests.api.test_actions import (
    BRANCH,
    NIGHTLY_BRANCH,
    NIGHTLY_REPO,
    a_build,
    a_revision,
    bearer,
    job_count,
    published_row,
    request_ids,
)
from tests.tokens import make_token

UNKNOWN = "0123456789ab"


@pytest.fixture(scope="module")
def token(busy_farm: Farm) -> str:
    return make_token(busy_farm.databases, "dev@example.com")


def new_builds_at(revision: str, nightly_revision: str) -> list[tuple[str, str]]:
    """(branch, path) of the three ways to start builds at a revision, each on a branch that
    has the builders it needs."""
    return [
        (BRANCH, f"/self-serve/{BRANCH}/rev/{revision}"),
        (BRANCH, f"/self-serve/{BRANCH}/rev/{revision}/pgo"),
        (NIGHTLY_BRANCH, f"/self-serve/{NIGHTLY_BRANCH}/rev/{nightly_revision}/nightly"),
    ]


def refused_writes(farm: Farm) -> list[tuple[str, str, int]]:
    """(method, path, status) of one write refused for each reason."""
    databases = farm.databases
    complete = request_ids(databases, claimed=True, complete=True)[0]
    return [
        ("POST", f"/self-serve/{BRANCH}/rev/{UNKNOWN}", 404),
        ("POST", f"/self-serve/{BRANCH}/rev/{a_revision(databases)}/nightly", 400),
        ("DELETE", f"/self-serve/{BRANCH}/build/{a_build(databases, running=False)}", 409),
        ("DELETE", f"/self-serve/{BRANCH}/request/{complete}", 409),
    ]


def test_new_builds_at_an_unknown_revision_are_404(
    farm_client: httpx.Client, busy_farm: Farm, token: str
) -> None:
    before = job_count(busy_farm.databases)
    for branch, path in new_builds_at(UNKNOWN, UNKNOWN):
        response = farm_client.post(path, headers=bearer(token))
        assert response.status_code == 404, (path, response.text)
        assert response.json() == {
            "status": "FAILED",
            "msg": f"Revision {UNKNOWN} not found on branch {branch}",
        }
        # the same answer as a cancel of that revision
        cancel = farm_client.delete(f"/self-serve/{branch}/rev/{UNKNOWN}", headers=bearer(token))
        assert (cancel.status_code, cancel.json()) == (404, response.json())
    assert job_count(busy_farm.databases) == before


@pytest.mark.parametrize("own_client", [{"write_allow_unknown_revisions": True}], indirect=True)
def test_unknown_revisions_are_accepted_when_the_settings_allow_them(
    own_client: httpx.Client, busy_farm: Farm, token: str
) -> None:
    for _branch, path in new_builds_at(UNKNOWN, UNKNOWN):
        response = own_client.post(path, headers=bearer(token))
        assert response.status_code == 202, (path, response.text)
        row = published_row(busy_farm.databases, response.json()["request_id"])
        assert UNKNOWN in row.what
    # cancelling still needs something to cancel
    cancel = own_client.delete(f"/self-serve/{BRANCH}/rev/{UNKNOWN}", headers=bearer(token))
    assert cancel.status_code == 404


def test_known_revisions_are_accepted(
    farm_client: httpx.Client, busy_farm: Farm, token: str
) -> None:
    databases = busy_farm.databases
    for _branch, path in new_builds_at(a_revision(databases), a_revision(databases, NIGHTLY_REPO)):
        response = farm_client.post(path, headers=bearer(token))
        assert response.status_code == 202, (path, response.text)


@pytest.mark.parametrize(
    ("branch", "kind", "what"),
    [
        ("mozilla-inbound", "nightly", "nightly"),
        ("try", "pgo", "PGO"),
        ("try", "nightly", "nightly"),
    ],
)
def test_nightly_or_pgo_on_a_branch_without_such_builders_is_400(
    farm_client: httpx.Client,
    busy_farm: Farm,
    token: str,
    branch: str,
    kind: PeriodicKind,
    what: str,
) -> None:
    assert busy_farm.layout.builders_for_branch(branch)
    assert not periodic_builders(busy_farm.layout, branch, kind)
    before = job_count(busy_farm.databases)
    repo = busy_farm.layout.branches[branch].repo_path
    # whether or not the revision is known: the branch decides first
    for revision in (a_revision(busy_farm.databases, repo), UNKNOWN):
        response = farm_client.post(
            f"/self-serve/{branch}/rev/{revision}/{kind}", headers=bearer(token)
        )
        assert response.status_code == 400, response.text
        assert response.json()["msg"] == f"Branch {branch} has no {what} builders"
    assert job_count(busy_farm.databases) == before


def test_cancelling_a_finished_build_is_409(
    farm_client: httpx.Client, busy_farm: Farm, token: str
) -> None:
    build_id = a_build(busy_farm.databases, running=False)
    before = job_count(busy_farm.databases)
    response = farm_client.delete(f"/self-serve/{BRANCH}/build/{build_id}", headers=bearer(token))
    assert response.status_code == 409, response.text
    assert response.json()["msg"] == f"Cannot cancel build {build_id}: it is complete, not running"
    # a rebuild of it is the usual case
    rebuild = farm_client.post(
        f"/self-serve/{BRANCH}/build", data={"build_id": build_id}, headers=bearer(token)
    )
    assert rebuild.status_code == 202
    assert job_count(busy_farm.databases) == before + 1


def test_cancelling_a_complete_request_is_409(
    farm_client: httpx.Client, busy_farm: Farm, token: str
) -> None:
    databases = busy_farm.databases
    complete = request_ids(databases, claimed=True, complete=True)[0]
    before = job_count(databases)
    response = farm_client.delete(f"/self-serve/{BRANCH}/request/{complete}", headers=bearer(token))
    assert response.status_code == 409, response.text
    assert response.json()["msg"] == (
        f"Cannot cancel request {complete}: it is complete, not pending or running"
    )
    assert job_count(databases) == before
    for request_id in (
        request_ids(databases, claimed=True, complete=False)[0],
        request_ids(databases, claimed=False, complete=False)[0],
    ):
        path = f"/self-serve/{BRANCH}/request/{request_id}"
        assert farm_client.delete(path, headers=bearer(token)).status_code == 202


def test_html_clients_get_the_refusal_as_a_page(
    farm_client: httpx.Client, busy_farm: Farm, token: str
) -> None:
    before = job_count(busy_farm.databases)
    for method, path, status in refused_writes(busy_farm):
        response = farm_client.request(
            method, path, headers={"Authorization": f"Bearer {token}", "Accept": "text/html"}
        )
        assert response.status_code == status, (path, response.text)
        assert response.headers["content-type"].startswith("text/html")
        msg = farm_client.request(method, path, headers=bearer(token)).json()["msg"]
        assert f"<h1>Error {status}</h1>" in response.text
        assert f'<p class="error-msg">{msg}</p>' in response.text
    assert job_count(busy_farm.databases) == before


@pytest.mark.parametrize("own_client", [{"write_rate_per_minute": 1}], indirect=True)
def test_refusals_use_none_of_the_quota(own_client: httpx.Client, busy_farm: Farm) -> None:
    headers = bearer(make_token(busy_farm.databases, "refused@example.com"))
    for method, path, status in refused_writes(busy_farm):
        assert own_client.request(method, path, headers=headers).status_code == status, path
    accepted = own_client.post(
        f"/self-serve/{BRANCH}/rev/{a_revision(busy_farm.databases)}", headers=headers
    )
    assert accepted.status_code == 202, accepted.text
