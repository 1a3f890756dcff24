"""The write endpoints: checks in order (401, 403, 400, 404, 409, 422, 429), then a recorded
and published job request answered 202 (HTML: 302 to the job page). Nothing runs the agent
here."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx
import pytest
from passlib.apache import HtpasswdFile
from sqlalchemy import func, select

from buildapi.config import Settings, load_settings
from buildapi.db.engines import Databases
from buildapi.db.schema.buildapi import jobrequests
from buildapi.db.schema.scheduler import buildrequests, builds, buildsets, sourcestamps
from buildapi.farm.farm import Farm
from buildapi.selfserve.broker import REQUESTS, Broker
from tests.conftest import broker_names, make_client
from tests.processes import wait_until
from tests.tokens import make_token

BRANCH = "mozilla-inbound"
REPO = "integration/mozilla-inbound"
NIGHTLY_BRANCH = NIGHTLY_REPO = "mozilla-central"


@pytest.fixture(scope="module")
def token(busy_farm: Farm) -> str:
    return make_token(busy_farm.databases, "dev@example.com")


@pytest.fixture(scope="module")
def releng_token(busy_farm: Farm) -> str:
    return make_token(busy_farm.databases, "releng@example.com", ("releng",))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


def basic(user: str, password: str) -> dict[str, str]:
    encoded = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {encoded}", "Accept": "application/json"}


def request_ids(databases: Databases, *, claimed: bool, complete: bool) -> list[int]:
    query = (
        select(buildrequests.c.id)
        .join(buildsets, buildsets.c.id == buildrequests.c.buildsetid)
        .join(sourcestamps, sourcestamps.c.id == buildsets.c.sourcestampid)
        .where(
            sourcestamps.c.branch == REPO,
            buildrequests.c.complete == int(complete),
            (buildrequests.c.claimed_at > 0) if claimed else (buildrequests.c.claimed_at == 0),
        )
        .order_by(buildrequests.c.id)
    )
    with databases.schedulerdb.connect() as connection:
        return list(connection.execute(query).scalars())


def a_build(databases: Databases, *, running: bool | None = None) -> int:
    """A build of the branch: any, or one still running (True) or over (False)."""
    query = (
        select(builds.c.id)
        .join(buildrequests, buildrequests.c.id == builds.c.brid)
        .join(buildsets, buildsets.c.id == buildrequests.c.buildsetid)
        .join(sourcestamps, sourcestamps.c.id == buildsets.c.sourcestampid)
        .where(sourcestamps.c.branch == REPO)
        .order_by(builds.c.id)
        .limit(1)
    )
    if running is not None:
        live = builds.c.finish_time.is_(None) & (buildrequests.c.complete == 0)
        query = query.where(live if running else builds.c.finish_time.is_not(None))
    with databases.schedulerdb.connect() as connection:
        return connection.execute(query).scalar_one()


def a_revision(databases: Databases, repo: str = REPO) -> str:
    query = select(sourcestamps.c.revision).where(sourcestamps.c.branch == repo).limit(1)
    with databases.schedulerdb.connect() as connection:
        return connection.execute(query).scalar_one()


def job_row(databases: Databases, job_id: int):  # type: ignore[no-untyped-def]
    with databases.buildapi_db.connect() as connection:
        return connection.execute(select(jobrequests).where(jobrequests.c.id == job_id)).one()


def published_row(databases: Databases, job_id: int):  # type: ignore[no-untyped-def]
    """The job's row once the relay has handed it to the broker (it answers before that)."""
    wait_until(lambda: job_row(databases, job_id).state == "published", 10, f"job {job_id} is sent")
    return job_row(databases, job_id)


def job_count(databases: Databases) -> int:
    with databases.buildapi_db.connect() as connection:
        return connection.execute(select(func.count()).select_from(jobrequests)).scalar_one()


def test_rebuild_build_is_recorded_published_and_answered_202(
    farm_client: httpx.Client, busy_farm: Farm, token: str, live_settings: Settings
) -> None:
    build_id = a_build(busy_farm.databases)
    broker = Broker(live_settings)
    before = broker.queue_depths()[REQUESTS]
    response = farm_client.post(
        f"/self-serve/{BRANCH}/build",
        data={"build_id": str(build_id), "count": "2", "priority": "3"},
        headers=bearer(token),
    )
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "OK" and isinstance(body["request_id"], int) and body["msg"]
    row = published_row(busy_farm.databases, body["request_id"])
    assert (row.action, row.who, row.branch) == ("rebuild_build", "dev@example.com", BRANCH)
    assert json.loads(row.what) == {"bid": build_id, "count": 2, "priority": 3}
    assert row.completed_at is None and row.attempts == 1 and row.sent_at is not None
    assert broker.queue_depths()[REQUESTS] == before + 1


def test_json_bodies_and_defaults(farm_client: httpx.Client, busy_farm: Farm, token: str) -> None:
    request_id = request_ids(busy_farm.databases, claimed=False, complete=False)[0]
    response = farm_client.post(
        f"/self-serve/{BRANCH}/request", json={"request_id": request_id}, headers=bearer(token)
    )
    assert response.status_code == 202, response.text
    what = json.loads(job_row(busy_farm.databases, response.json()["request_id"]).what)
    assert what == {"brid": request_id, "count": 1, "priority": 0}


def test_html_clients_are_redirected_to_the_job_page(
    farm_client: httpx.Client, busy_farm: Farm, token: str
) -> None:
    request_id = request_ids(busy_farm.databases, claimed=False, complete=False)[0]
    response = farm_client.delete(
        f"/self-serve/{BRANCH}/request/{request_id}",
        headers={"Authorization": f"Bearer {token}", "Accept": "*/*"},
    )
    assert response.status_code == 302
    job_url = response.headers["location"]
    assert job_url.startswith("/self-serve/jobs/")
    page = farm_client.get(job_url)
    job_id = job_url.rsplit("/", 1)[1]
    assert page.status_code == 200 and f"<title>Job {job_id} status detail" in page.text


def test_method_override_and_format_query(
    farm_client: httpx.Client, busy_farm: Farm, token: str
) -> None:
    request_id = request_ids(busy_farm.databases, claimed=False, complete=False)[0]
    response = farm_client.post(
        f"/self-serve/{BRANCH}/request/{request_id}?format=json",
        data={"_method": "PUT", "priority": "5"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 202, response.text
    row = job_row(busy_farm.databases, response.json()["request_id"])
    assert row.action == "reprioritize"
    assert json.loads(row.what) == {"brid": request_id, "priority": 5}


def test_method_in_the_query_of_a_post(
    farm_client: httpx.Client, busy_farm: Farm, token: str
) -> None:
    """A page-wide form's button carries its row's method in `formaction`."""
    request_id = request_ids(busy_farm.databases, claimed=False, complete=False)[0]
    response = farm_client.post(
        f"/self-serve/{BRANCH}/request/{request_id}?_method=PUT&format=json",
        data={"priority": "6"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 202, response.text
    row = job_row(busy_farm.databases, response.json()["request_id"])
    assert row.action == "reprioritize"
    assert json.loads(row.what) == {"brid": request_id, "priority": 6}


def test_every_action_is_accepted(farm_client: httpx.Client, busy_farm: Farm, token: str) -> None:
    databases = busy_farm.databases
    revision = a_revision(databases)
    builder = sorted(busy_farm.layout.builders_for_branch(BRANCH))[0]
    pending = request_ids(databases, claimed=False, complete=False)[0]
    running = a_build(databases, running=True)
    # mozilla-inbound has no nightly builders
    nightly_at = f"/self-serve/{NIGHTLY_BRANCH}/rev/{a_revision(databases, NIGHTLY_REPO)}"
    calls = {
        "rebuild_request": ("POST", f"/self-serve/{BRANCH}/request", {"request_id": pending}),
        "cancel_build": ("DELETE", f"/self-serve/{BRANCH}/build/{running}", None),
        "cancel_revision": ("DELETE", f"/self-serve/{BRANCH}/rev/{revision}", None),
        "new_build_at_revision": ("POST", f"/self-serve/{BRANCH}/rev/{revision}", None),
        "new_nightly_at_revision": ("POST", f"{nightly_at}/nightly", {"priority": "2"}),
        "new_pgobuild_at_revision": ("POST", f"/self-serve/{BRANCH}/rev/{revision}/pgo", {}),
        "new_build_for_builder": (
            "POST",
            f"/self-serve/{BRANCH}/builders/{builder}/{revision}",
            {"properties": '{"who": "me"}', "files": '["a.zip"]', "priority": "1"},
        ),
    }
    for action, (method, path, data) in calls.items():
        response = farm_client.request(method, path, data=data, headers=bearer(token))
        assert response.status_code == 202, (action, response.text)
        row = job_row(databases, response.json()["request_id"])
        assert row.action == action
    what = json.loads(row.what)  # the last one: new_build_for_builder
    assert what["branch"] == f"{BRANCH}-selfserve" and what["properties"] == {"who": "me"}
    assert what["files"] == ["a.zip"] and what["builder_name"] == builder


def test_credentials(farm_client: httpx.Client, busy_farm: Farm, token: str) -> None:
    path = f"/self-serve/{BRANCH}/build"
    data = {"build_id": str(a_build(busy_farm.databases))}
    before = job_count(busy_farm.databases)
    for headers in (
        {"Accept": "application/json"},
        bearer("not-a-token"),
        basic("dev@example.com", "wrong"),
        basic("someone-else", token),  # a token only works for its own user
        {"Authorization": "Basic !!!", "Accept": "application/json"},
        {"Authorization": "Digest x", "Accept": "application/json"},
    ):
        response = farm_client.post(path, data=data, headers=headers)
        assert response.status_code == 401, headers
        challenge = response.headers["www-authenticate"]
        assert challenge.startswith('Basic realm="BuildAPI') and "API token" in challenge
        assert response.json()["status"] == "FAILED"
    assert (
        farm_client.post(path, data=data, headers=basic("dev@example.com", token)).status_code
        == 202
    )
    assert job_count(busy_farm.databases) == before + 1


def test_clients_check_credentials_with_get_self_serve(
    farm_client: httpx.Client, token: str
) -> None:
    assert farm_client.get("/self-serve", headers=bearer("bad")).status_code == 401
    assert farm_client.get("/self-serve", headers=bearer(token)).status_code == 200
    assert farm_client.get("/self-serve?format=json").status_code == 200


@pytest.mark.parametrize("own_client", [{"write_allow_unknown_revisions": True}], indirect=True)
def test_release_branch_needs_its_group(
    farm_client: httpx.Client, own_client: httpx.Client, token: str, releng_token: str
) -> None:
    revision = "a" * 40
    path = "/self-serve/mozilla-beta/rev/" + revision
    for client in (farm_client, own_client):
        response = client.post(path, headers=bearer(token))
        assert response.status_code == 403 and "mozilla-beta" in response.json()["msg"]
        # 403 comes before validation and existence: a forbidden user learns nothing.
        assert (
            client.post("/self-serve/mozilla-beta/rev/zz", headers=bearer(token)).status_code == 403
        )
    assert farm_client.post(path, headers=bearer(releng_token)).status_code == 404
    assert own_client.post(path, headers=bearer(releng_token)).status_code == 202


@pytest.mark.parametrize(
    ("method", "path", "data", "words"),
    [
        ("POST", "/self-serve/{b}/build", {"build_id": "abc"}, "build_id must be an integer"),
        ("POST", "/self-serve/{b}/build", {}, "missing parameter 'build_id'"),
        ("POST", "/self-serve/{b}/build", {"build_id": "1", "count": "0"}, "count must be between"),
        ("POST", "/self-serve/{b}/build", {"build_id": "1", "count": "101"}, "count"),
        ("POST", "/self-serve/{b}/request", {"request_id": "1", "priority": "x"}, "priority"),
        ("POST", "/self-serve/{b}/request", {"request_id": "-1"}, "request_id must be between"),
        ("PUT", "/self-serve/{b}/request/1", {}, "missing parameter 'priority'"),
        ("PUT", "/self-serve/{b}/request/1", {"priority": "99999"}, "priority must be between"),
        ("DELETE", "/self-serve/{b}/request/abc", None, "request_id"),
        ("DELETE", "/self-serve/{b}/build/1.5", None, "build_id"),
        ("DELETE", "/self-serve/{b}/rev/xyz", None, "12 to 40 hexadecimal"),
        ("POST", "/self-serve/{b}/rev/1234", None, "12 to 40 hexadecimal"),
        ("POST", "/self-serve/{b}/builders/x/abcdefabcdef", {"properties": "{"}, "not valid JSON"),
        ("POST", "/self-serve/{b}/builders/x/abcdefabcdef", {"properties": "[]"}, "JSON object"),
        ("POST", "/self-serve/{b}/builders/x/abcdefabcdef", {"files": '{"a": 1}'}, "JSON list"),
        ("POST", "/self-serve/{b}/builders/x/abcdefabcdef", {"files": "[1]"}, "list of strings"),
    ],
)
def test_bad_input_is_400_and_records_nothing(
    farm_client: httpx.Client,
    busy_farm: Farm,
    token: str,
    method: str,
    path: str,
    data: dict | None,
    words: str,
) -> None:
    before = job_count(busy_farm.databases)
    # An unknown branch is a 404, but bad values are found first.
    for branch in (BRANCH, "no-such-branch"):
        response = farm_client.request(
            method, path.format(b=branch), data=data, headers=bearer(token)
        )
        assert response.status_code == 400, response.text
        assert words in response.json()["msg"]
    assert job_count(busy_farm.databases) == before


def test_bad_bodies(farm_client: httpx.Client, token: str, live_settings: Settings) -> None:
    path = f"/self-serve/{BRANCH}/build"
    huge = {"build_id": "1", "padding": "x" * (live_settings.write_max_body_bytes + 1)}
    for kwargs in (
        {"data": huge},
        {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
        {"content": b"[1, 2]", "headers": {"Content-Type": "application/json"}},
        {"content": b"<x/>", "headers": {"Content-Type": "application/xml"}},
    ):
        headers = {**bearer(token), **kwargs.pop("headers", {})}
        response = farm_client.post(path, headers=headers, **kwargs)
        assert response.status_code == 400, response.text
        assert response.json()["status"] == "FAILED"


def test_unknown_objects_are_404(farm_client: httpx.Client, busy_farm: Farm, token: str) -> None:
    before = job_count(busy_farm.databases)
    revision = a_revision(busy_farm.databases)
    for method, path, data in (
        ("POST", "/self-serve/no-such-branch/build", {"build_id": "1"}),
        ("POST", f"/self-serve/{BRANCH}/build", {"build_id": "999999999"}),
        ("DELETE", f"/self-serve/{BRANCH}/build/999999999", None),
        ("POST", f"/self-serve/{BRANCH}/request", {"request_id": "999999999"}),
        ("DELETE", f"/self-serve/{BRANCH}/request/999999999", None),
        ("PUT", f"/self-serve/{BRANCH}/request/999999999", {"priority": "1"}),
        ("DELETE", f"/self-serve/{BRANCH}/rev/{'0' * 40}", None),
        ("POST", f"/self-serve/{BRANCH}/builders/No Such Builder/{revision}", None),
        # a builder of another branch is unknown on this one
        ("POST", f"/self-serve/{BRANCH}/builders/{try_builder(busy_farm)}/{revision}", None),
    ):
        response = farm_client.request(method, path, data=data, headers=bearer(token))
        assert response.status_code == 404, (path, response.text)
        assert response.json()["status"] == "FAILED" and response.json()["msg"]
    assert job_count(busy_farm.databases) == before


def try_builder(farm: Farm) -> str:
    return sorted(farm.layout.builders_for_branch("try"))[0]


def test_reprioritizing_a_running_or_complete_request_is_409(
    farm_client: httpx.Client, busy_farm: Farm, token: str
) -> None:
    databases = busy_farm.databases
    running = request_ids(databases, claimed=True, complete=False)[0]
    complete = request_ids(databases, claimed=True, complete=True)[0]
    before = job_count(databases)
    for request_id, state in ((running, "running"), (complete, "complete")):
        response = farm_client.put(
            f"/self-serve/{BRANCH}/request/{request_id}",
            data={"priority": "4"},
            headers=bearer(token),
        )
        assert response.status_code == 409 and state in response.json()["msg"]
    assert job_count(databases) == before


def test_idempotency_key_returns_the_first_id(
    farm_client: httpx.Client, busy_farm: Farm, token: str
) -> None:
    data = {"build_id": str(a_build(busy_farm.databases))}
    path = f"/self-serve/{BRANCH}/build"
    first, again, other = (
        farm_client.post(path, data=data, headers={**bearer(token), "Idempotency-Key": key})
        for key in ("retry-1", "retry-1", "retry-2")
    )
    assert first.status_code == again.status_code == other.status_code == 202
    assert first.json()["request_id"] == again.json()["request_id"]
    assert other.json()["request_id"] != first.json()["request_id"]
    too_long = {**bearer(token), "Idempotency-Key": "k" * 201}
    assert farm_client.post(path, data=data, headers=too_long).status_code == 400


@pytest.mark.parametrize("own_client", [{"write_rate_per_minute": 3}], indirect=True)
def test_rate_limit_is_429_with_retry_after(own_client: httpx.Client, busy_farm: Farm) -> None:
    token = make_token(busy_farm.databases, "busy@example.com")
    data = {"build_id": str(a_build(busy_farm.databases))}
    path = f"/self-serve/{BRANCH}/build"
    codes = [own_client.post(path, data=data, headers=bearer(token)).status_code for _ in range(4)]
    assert codes == [202, 202, 202, 429]
    limited = own_client.post(path, data=data, headers=bearer(token))
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert "counting 3" in limited.json()["msg"] and "limit is 3" in limited.json()["msg"]
    # another user is not held back
    other = make_token(busy_farm.databases, "calm@example.com")
    assert own_client.post(path, data=data, headers=bearer(other)).status_code == 202


def test_htpasswd_logins(tmp_path: Path, busy_farm: Farm) -> None:
    htpasswd = HtpasswdFile(str(tmp_path / "users"), new=True)
    htpasswd.set_password("alice", "s3cret")
    htpasswd.save()
    settings = load_settings(
        data_dir=tmp_path, auth_htpasswd_file=str(tmp_path / "users"), **broker_names()
    )
    path = f"/self-serve/{BRANCH}/rev/{a_revision(busy_farm.databases)}"
    with make_client(settings, busy_farm.databases, busy_farm.layout) as client:
        assert client.post(path, headers=basic("alice", "s3cret")).status_code == 202
        assert client.post(path, headers=basic("alice", "wrong")).status_code == 401


@pytest.mark.parametrize("own_client", [{"auth_trusted_proxies": ["10.0.0.0/8"]}], indirect=True)
def test_proxy_header_only_from_trusted_addresses(
    own_client: httpx.Client, busy_farm: Farm
) -> None:
    # The test client's address is "testclient", not a trusted proxy: the header is ignored.
    path = f"/self-serve/{BRANCH}/rev/{a_revision(busy_farm.databases)}"
    response = own_client.post(
        path, headers={"X-Remote-User": "mallory", "Accept": "application/json"}
    )
    assert response.status_code == 401


def test_unrecordable_request_is_503_and_sends_nothing(tmp_path: Path, busy_farm: Farm) -> None:
    htpasswd = HtpasswdFile(str(tmp_path / "users"), new=True)
    htpasswd.set_password("alice", "s3cret")
    htpasswd.save()
    settings = load_settings(
        data_dir=tmp_path,
        auth_htpasswd_file=str(tmp_path / "users"),
        buildapi_db_url="postgresql://nobody:x@127.0.0.1:9/nowhere",
        db_connect_timeout_seconds=1,
        **broker_names(),
    )
    databases = Databases(
        schedulerdb=busy_farm.databases.schedulerdb,
        statusdb=busy_farm.databases.statusdb,
        buildapi_db=Databases.from_settings(settings).buildapi_db,
    )
    broker = Broker(settings)
    with make_client(settings, databases, busy_farm.layout) as client:
        response = client.post(
            f"/self-serve/{BRANCH}/rev/{a_revision(busy_farm.databases)}",
            headers=basic("alice", "s3cret"),
        )
    assert response.status_code == 503
    assert response.json() == {
        "status": "FAILED",
        "msg": "Couldn't create JobRequest row; nothing was done",
    }
    assert broker.queue_depths()[REQUESTS] == 0
