"""The masters' web interface and the clobberer: what the agent relies on, and bad input."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from starlette.testclient import TestClient

from buildapi.config import load_settings
from buildapi.farm.farm import Farm
from buildapi.farm.launch import with_free_ports
from buildapi.farm.server import FarmServer
from buildapi.farm.web import create_farm_app
from buildapi.layout import load_layout
from buildapi.vocabulary import Result
from tests.unit.farm.conftest import make_farm
from tests.unit.farm.invariants import rows

CLOBBERER_PORT = 8099
REVISION = "0123456789abcdef0123456789abcdef01234567"
# What a change needs for a Buildbot 0.8.2 master to store it.
MASTER_FIELDS = {"who": "me@example.org", "repository": "https://hg.example.org/r", "project": ""}


@pytest.fixture
def app(farm: Farm):  # type: ignore[no-untyped-def]
    ports = {master.http_port: master for master in farm.layout.masters}
    return create_farm_app(farm, ports, CLOBBERER_PORT)


def client_for(app, port: int) -> TestClient:  # type: ignore[no-untyped-def]
    return TestClient(app, base_url=f"http://127.0.0.1:{port}", follow_redirects=False)


@pytest.fixture
def running(farm: Farm):  # type: ignore[no-untyped-def]
    farm.advance(1800.0)
    assert farm.running
    return sorted(farm.running.values(), key=lambda build: build.key)[0]


def build_path(buildername: str, number: int) -> str:
    return f"/builders/{quote(buildername, safe='')}/builds/{number}"


def counts(farm: Farm) -> list:
    return rows(
        farm.databases.schedulerdb,
        "SELECT (SELECT COUNT(*) FROM changes), (SELECT COUNT(*) FROM buildrequests), "
        "(SELECT SUM(complete) FROM buildrequests), (SELECT COUNT(*) FROM builds)",
    )


def test_build_page_names_the_slave(farm: Farm, app, running) -> None:  # type: ignore[no-untyped-def]
    client = client_for(app, running.master.http_port)
    page = client.get(build_path(running.buildername, running.number))
    assert page.status_code == 200
    assert f'href="../../../buildslaves/{running.slave}"' in page.text
    assert "running" in page.text
    slave = client.get(f"/buildslaves/{running.slave}")
    assert running.buildername in slave.text


def status_rows(farm: Farm) -> list:
    return rows(
        farm.databases.statusdb,
        "SELECT (SELECT COUNT(*) FROM builds), (SELECT COUNT(*) FROM steps), "
        "(SELECT COUNT(*) FROM builds WHERE endtime IS NULL)",
    )


def test_stop_fails_the_build(farm: Farm, app, running) -> None:  # type: ignore[no-untyped-def]
    """Buildbot 0.8 has no CANCELLED: a stopped build and its requests end as FAILURE."""
    client = client_for(app, running.master.http_port)
    path = build_path(running.buildername, running.number)
    stopped = client.post(f"{path}/stop", data={"comments": "no", "username": "me@x.org"})
    assert stopped.status_code == 302
    assert stopped.headers["location"] == path
    results = rows(
        farm.databases.schedulerdb,
        f"SELECT DISTINCT complete, results FROM buildrequests WHERE id IN "
        f"({','.join(map(str, running.brids))})",
    )
    assert results == [(1, Result.FAILURE)]
    assert rows(
        farm.databases.statusdb, f"SELECT result FROM builds WHERE id = {running.status_id}"
    ) == [(Result.FAILURE,)]
    steps = rows(
        farm.databases.statusdb,
        f'SELECT status FROM steps WHERE build_id = {running.status_id} ORDER BY "order"',
    )
    assert steps[-1] == (Result.FAILURE,) and set(steps[:-1]) <= {(Result.SUCCESS,)}, "cut short"
    assert "failure" in client.get(path).text


def test_stopping_a_finished_build_redirects_and_changes_nothing(farm: Farm, app, running) -> None:  # type: ignore[no-untyped-def]
    """A real master answers 302 whether the build was running or not, so a 302 alone does
    not say that a build was stopped."""
    client = client_for(app, running.master.http_port)
    path = build_path(running.buildername, running.number)
    assert client.post(f"{path}/stop").status_code == 302
    before = (counts(farm), status_rows(farm))
    again = client.post(f"{path}/stop")
    assert (again.status_code, again.headers["location"]) == (302, path)
    assert (counts(farm), status_rows(farm)) == before


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/builders/No%20such%20builder/builds/1", 404),
        ("/builders/Linux%20x86-64%20try%20build/builds/one", 400),
        ("/builders/Linux%20x86-64%20try%20build/builds/-1", 400),
        ("/buildslaves/nobody-001", 404),
        ("/nothing/here", 404),
    ],
)
def test_bad_paths_are_4xx(farm: Farm, app, path: str, status: int) -> None:  # type: ignore[no-untyped-def]
    client = client_for(app, farm.layout.masters[0].http_port)
    before = counts(farm)
    assert client.get(path).status_code == status
    assert client.post(f"{path}/stop").status_code in (400, 404)
    assert counts(farm) == before


def test_unknown_port_is_404(app) -> None:  # type: ignore[no-untyped-def]
    response = client_for(app, 1).get("/builders/x/builds/1")
    assert response.status_code == 404
    assert response.json()["status"] == "FAILED"


def test_change_hook_orders_the_branch_builds(farm: Farm, app) -> None:  # type: ignore[no-untyped-def]
    client = client_for(app, farm.layout.masters[0].http_port)
    response = client.post(
        "/change_hook/base",
        data={
            **MASTER_FIELDS,
            "comments": "Bug 1 - hooked",
            "revision": REVISION,
            "branch": "integration/mozilla-inbound",
            "files": json.dumps(["dom/a.cpp"]),
            "properties": json.dumps({"origin": "test"}),
        },
    )
    assert response.status_code == 200, response.text
    farm.step()
    ordered = rows(
        farm.databases.schedulerdb,
        "SELECT br.buildername FROM buildrequests br JOIN buildsets bs ON bs.id = br.buildsetid "
        f"JOIN sourcestamps ss ON ss.id = bs.sourcestampid WHERE ss.revision = '{REVISION}' "
        "AND ss.branch = 'integration/mozilla-inbound' ORDER BY br.buildername",
    )
    expected = sorted(
        name
        for name, builder in farm.layout.builders_for_branch("mozilla-inbound").items()
        if builder.kind == "build"
    )
    assert [row[0] for row in ordered] == expected
    files = rows(
        farm.databases.schedulerdb, "SELECT filename FROM change_files ORDER BY rowid DESC"
    )
    assert files[0] == ("dom/a.cpp",)


def test_change_hook_on_try_follows_the_try_syntax(farm: Farm, app) -> None:  # type: ignore[no-untyped-def]
    client = client_for(app, farm.layout.masters[0].http_port)
    response = client.post(
        "/change_hook/base",
        data={
            **MASTER_FIELDS,
            "revision": REVISION,
            "branch": "try",
            "comments": "try: -b o -p linux64 -u none",
        },
    )
    assert response.status_code == 200
    farm.step()
    ordered = rows(
        farm.databases.schedulerdb,
        "SELECT br.buildername FROM buildrequests br JOIN buildsets bs ON bs.id = br.buildsetid "
        f"JOIN sourcestamps ss ON ss.id = bs.sourcestampid WHERE ss.revision = '{REVISION}'",
    )
    assert ordered == [("Linux x86-64 try build",)]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"author": "me", "repository": "r", "project": ""}, "who required"),
        ({"who": "me", "project": ""}, "repository required"),
        ({"who": "me", "repository": "r"}, "project required"),
    ],
)
def test_change_hook_needs_what_a_0_8_2_master_needs(
    farm: Farm, app, fields: dict, message: str
) -> None:  # type: ignore[no-untyped-def]
    """0.8.2 reads `who`, not `author`, and fails on a change without repository or project."""
    client = client_for(app, farm.layout.masters[0].http_port)
    before = counts(farm)
    response = client.post(
        "/change_hook/base", data={"branch": "try", "revision": REVISION, **fields}
    )
    assert response.status_code == 400
    assert message in response.json()["msg"]
    assert counts(farm) == before


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"branch": "try"}, "revision must be 12 to 40 hexadecimal"),
        ({"branch": "try", "revision": "xyz123456789"}, "revision must be"),
        ({"branch": "nowhere", "revision": REVISION}, "unknown branch 'nowhere'"),
        ({"branch": "try", "revision": REVISION, "files": "[1, 2]"}, "list of strings"),
        ({"branch": "try", "revision": REVISION, "files": "{"}, "files is not valid JSON"),
        ({"branch": "try", "revision": REVISION, "properties": "[]"}, "must be a JSON object"),
    ],
)
def test_change_hook_rejects_bad_input(farm: Farm, app, fields: dict, message: str) -> None:  # type: ignore[no-untyped-def]
    client = client_for(app, farm.layout.masters[0].http_port)
    before = counts(farm)
    response = client.post("/change_hook/base", data={**MASTER_FIELDS, **fields})
    assert response.status_code == 400
    assert message in response.json()["msg"]
    farm.step()
    assert counts(farm)[0][0] == before[0][0]


def test_clobberer_records_and_lists(farm: Farm, app) -> None:  # type: ignore[no-untyped-def]
    client = client_for(app, CLOBBERER_PORT)
    entry = {"slave": "b-2008-ix-0001", "buildername": "WINNT 5.2 try build"}
    assert client.post("/clobberer", json=[entry]).json() == {"status": "OK", "recorded": 1}
    listed = client.get("/clobberer").json()
    assert [(c["slave"], c["buildername"]) for c in listed] == [
        (entry["slave"], entry["buildername"])
    ]


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        json.dumps({"slave": "b-2008-ix-0001", "buildername": "WINNT 5.2 try build"}),
        json.dumps([]),
        json.dumps([{"slave": "b-2008-ix-0001"}]),
        json.dumps([{"slave": "nobody-1", "buildername": "WINNT 5.2 try build"}]),
        json.dumps([{"slave": "b-2008-ix-0001", "buildername": "No such builder"}]),
    ],
)
def test_clobberer_rejects_bad_input(farm: Farm, app, body: str) -> None:  # type: ignore[no-untyped-def]
    client = client_for(app, CLOBBERER_PORT)
    response = client.post("/clobberer", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["status"] == "FAILED"
    assert client.get("/clobberer").json() == []


def test_real_sockets(tmp_path: Path) -> None:
    """The server listens on the masters' own ports, as the masters config says."""
    base = load_settings(data_dir=tmp_path)
    settings = with_free_ports(base, load_layout(base))
    farm = make_farm(tmp_path / "farm", masters_url=settings.masters_url)
    server = FarmServer(farm, settings.clobberer_url)
    server.start()
    try:
        master = farm.layout.masters[0]
        response = httpx.get(f"{master.http_url}/builders/x/builds/1", timeout=10)
        assert response.status_code == 404
        assert master.name in response.json()["msg"]
        assert httpx.get(settings.clobberer_url, timeout=10).json() == []
    finally:
        server.stop()
        farm.databases.dispose()
