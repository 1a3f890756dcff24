"""Rows as a real Buildbot 0.8.2 master writes them, on every engine: float times with
fractions, and a merged build written as one `builds` row per request with start times a
fraction of a millisecond apart. Every view serves whole seconds and one entry per build."""

from __future__ import annotations

import datetime
import gzip
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert

from buildapi.config import Settings, load_settings
from buildapi.db.engines import Databases
from buildapi.db.queries.status_builds import StatusBuildStart, StatusWriter
from buildapi.db.schema.scheduler import (
    buildrequests,
    builds,
    buildsets,
    changes,
    sourcestamp_changes,
    sourcestamps,
)
from buildapi.db.setup import init_databases
from buildapi.dumps.run import FOUR_HOURS, RUNNING, write_live_dumps
from buildapi.layout import FarmLayout, load_layout
from tests.conftest import make_client
from tests.databases import ENGINES, database_urls

T = 1_700_000_000
MASTER = "buildbot-master01.bb.releng.example.com:/builds/buildbot/build1/master"
OTHER_MASTER = "buildbot-master02.bb.releng.example.com:/builds/buildbot/build1/master"
BUILDER = "Linux x86-64 mozilla-inbound build"
REPO = "integration/mozilla-inbound"
REV = "4e1d0c6ad3b9" * 3 + "c1f0"

# brid: (submitted_at, claimed_at, claimed_by_name, complete, complete_at, results). No time
# ends in exactly .5: PostgreSQL rounds such a tie to even on insert, MySQL and SQLite away from 0.
REQUESTS = {
    # running on MASTER as build 7, merged
    1: (T + 1.6123, T + 30.7, MASTER, 0, None, None),
    2: (T + 2.4, T + 30.7, MASTER, 0, None, None),
    # running on another master, also as build 7, started at the very same moment
    3: (T + 3.6, T + 30.2, OTHER_MASTER, 0, None, None),
    # finished on MASTER as build 6, merged
    4: (T + 0.7, T + 5.1, MASTER, 1, T + 15.8, 0),
    5: (T + 0.9, T + 5.1, MASTER, 1, T + 15.8, 0),
    # requeued after their build 3 was interrupted: unclaimed, their master forgotten
    6: (T + 4.4, 0, None, 0, None, None),
    7: (T + 4.6, 0, None, 0, None, None),
    # never claimed
    8: (T + 40.6, 0, None, 0, None, None),
    # retried: its first build, elsewhere, had the number of MASTER's build 6; now running
    9: (T + 6.2, T + 30.9, MASTER, 0, None, None),
}
# build id: (brid, number, start_time, finish_time); 0.4998 and 0.5002 round apart
BUILDS = {
    1: (4, 6, T + 5.2, T + 15.7),
    2: (5, 6, T + 5.2004, T + 15.7003),
    3: (6, 3, T + 8.3, T + 9.6),
    4: (7, 3, T + 8.3001, T + 9.6),
    5: (1, 7, T + 20.4998, None),
    6: (2, 7, T + 20.5002, None),
    7: (3, 7, T + 20.4998, None),
    8: (9, 6, T + 6.3, T + 7.1),
    9: (9, 8, T + 12.4, None),
}


def write_master_rows(databases: Databases) -> None:
    """One push, a buildset per request, and the builds rows, with a master's float times."""
    with databases.schedulerdb.begin() as connection:
        connection.execute(
            insert(changes).values(
                changeid=1,
                author="alice@example.com",
                comments="Bug 1 - fix",
                branch=REPO,
                revision=REV,
                revlink=f"https://hg.mozilla.org/{REPO}/rev/{REV}",
                when_timestamp=T + 0.4123,
            )
        )
        connection.execute(insert(sourcestamps).values(id=1, branch=REPO, revision=REV))
        connection.execute(insert(sourcestamp_changes).values(sourcestampid=1, changeid=1))
        for brid, (submitted, claimed, master, complete, complete_at, results) in REQUESTS.items():
            connection.execute(
                insert(buildsets).values(
                    id=brid, sourcestampid=1, submitted_at=submitted, reason="scheduler"
                )
            )
            connection.execute(
                insert(buildrequests).values(
                    id=brid,
                    buildsetid=brid,
                    buildername=BUILDER,
                    submitted_at=submitted,
                    claimed_at=claimed,
                    claimed_by_name=master,
                    claimed_by_incarnation="pid1-boot1" if master else None,
                    complete=complete,
                    complete_at=complete_at,
                    results=results,
                )
            )
        for build_id, (brid, number, start, finish) in BUILDS.items():
            connection.execute(
                insert(builds).values(
                    id=build_id, brid=brid, number=number, start_time=start, finish_time=finish
                )
            )


def write_status_build(databases: Databases) -> None:
    """Build 6 as the status plugin records it: one build, the merged requests' float times."""
    writer = StatusWriter()
    properties = {
        "buildername": BUILDER,
        "branch": "mozilla-inbound",
        "revision": REV,
        "slavename": "bld-linux64-spot-001",
        "request_ids": [4, 5],
        "request_times": {"4": REQUESTS[4][0], "5": REQUESTS[5][0]},
    }
    start = StatusBuildStart(
        buildername=BUILDER,
        buildnumber=6,
        category="mozilla-inbound",
        master_url="http://127.0.0.1:8101/",
        master_name="bm01-build1",
        slave="bld-linux64-spot-001",
        starttime=T + 5.2,
        reason="scheduler",
        branch="mozilla-inbound",
        revision=REV,
        properties=properties,
    )
    with databases.statusdb.begin() as connection:
        build_id = writer.start_build(connection, start)
        writer.finish_build(connection, build_id, T + 15.7, 0, {})


class Master:
    """An app over databases a real master wrote, on one engine."""

    def __init__(self, settings: Settings, databases: Databases, layout: FarmLayout) -> None:
        self.settings, self.databases, self.layout = settings, databases, layout
        self.client = make_client(settings, databases, layout)

    def get(self, path: str) -> Any:
        response = self.client.get(f"{path}{'&' if '?' in path else '?'}format=json")
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="module", params=ENGINES)
def master(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Master]:
    directory = tmp_path_factory.mktemp(f"master-{request.param}")
    with database_urls(request.param, directory) as urls:
        settings = load_settings(
            data_dir=directory,
            schedulerdb_url=urls["schedulerdb"],
            statusdb_url=urls["statusdb"],
            buildapi_db_url=urls["buildapi_db"],
        )
        databases = Databases.from_settings(settings)
        try:
            init_databases(databases)
            write_master_rows(databases)
            write_status_build(databases)
            found = Master(settings, databases, load_layout(settings))
            with found.client:
                yield found
        finally:
            databases.dispose()


def the_day(settings: Settings) -> str:
    return datetime.datetime.fromtimestamp(T, settings.zone).date().isoformat()


def running_entries(tree: dict) -> list[dict]:
    return [item for revisions in tree.values() for items in revisions.values() for item in items]


def test_running_is_one_entry_per_master_builder_and_number(master: Master) -> None:
    found = running_entries(master.get("/running")["running"])
    assert sorted(found, key=lambda item: (item["claimed_by_name"], item["id"])) == [
        {
            "id": 6,
            "revision": REV,
            "request_ids": [1, 2],
            "submitted_at": T + 2,
            "buildername": BUILDER,
            "last_heartbeat": T + 31,
            "claimed_by_name": MASTER,
            "start_time": T + 20,
            "number": 7,
        },
        {
            "id": 9,
            "revision": REV,
            "request_ids": [9],
            "submitted_at": T + 6,
            "buildername": BUILDER,
            "last_heartbeat": T + 31,
            "claimed_by_name": MASTER,
            "start_time": T + 12,
            "number": 8,
        },
        {
            "id": 7,
            "revision": REV,
            "request_ids": [3],
            "submitted_at": T + 4,
            "buildername": BUILDER,
            "last_heartbeat": T + 30,
            "claimed_by_name": OTHER_MASTER,
            "start_time": T + 20,
            "number": 7,
        },
    ]
    page = master.client.get("/running").text
    assert "3 builds running." in page
    assert re.search(
        r"<td><a href=\"[^\"]*/request/1\">1</a>, <a href=\"[^\"]*/request/2\">2</a></td>", page
    )
    assert page.count(f'data-sort="{T + 20}"') == 2


def build_summary(item: dict) -> tuple:
    if "build_id" not in item:
        return ("pending", item["request_id"], item["submittime"])
    requests = [r["request_id"] for r in item["requests"]]
    return (item["claimed_by_name"], item["buildnumber"], requests, item["starttime"])


# Newest builds row first. A row whose master is unknown stands alone: request 9's first build,
# which MASTER did not run, and the builds of requeued requests. Then pending requests.
JOB_LIST = [
    (MASTER, 8, [9], T + 12),
    (MASTER, 6, [9], T + 6),
    (OTHER_MASTER, 7, [3], T + 20),
    (MASTER, 7, [2, 1], T + 21),  # starttime from the newest row, as build_id
    (None, 3, [7], T + 8),
    (None, 3, [6], T + 8),
    (MASTER, 6, [5, 4], T + 5),
    ("pending", 8, T + 41),
    ("pending", 7, T + 5),
    ("pending", 6, T + 4),
]


def test_day_view_is_one_object_per_build(master: Master) -> None:
    items = master.get(f"/self-serve/mozilla-inbound?date={the_day(master.settings)}")
    assert [build_summary(item) for item in items] == JOB_LIST
    finished = items[JOB_LIST.index((MASTER, 6, [5, 4], T + 5))]
    assert (finished["endtime"], finished["status"]) == (T + 16, 0)
    assert [r["complete_at"] for r in finished["requests"]] == [T + 16, T + 16]
    assert [r["claimed_at"] for r in finished["requests"]] == [T + 5, T + 5]


def test_revision_views_fold_the_same_way(master: Master) -> None:
    items = master.get(f"/self-serve/mozilla-inbound/rev/{REV}")
    assert [build_summary(item) for item in items] == JOB_LIST
    user = master.get("/self-serve/mozilla-inbound/user/alice@example.com")
    built = [item for item in items if "build_id" in item]
    assert user["running"] == [item for item in built if item["endtime"] is None]
    assert user["builds"] == [item for item in built if item["endtime"] is not None]
    legacy = master.get(f"/revision/mozilla-inbound/{REV}")["all"]["mozilla-inbound"][REV]
    assert [(item["id"], item["start_time"], item["finish_time"]) for item in legacy] == [
        (1, T + 20, None),
        (2, T + 21, None),
        (3, T + 20, None),
        (4, T + 5, T + 16),
        (5, T + 5, T + 16),
        (6, T + 8, T + 10),
        (7, T + 8, T + 10),
        (8, None, None),
        (9, T + 6, T + 7),
        (9, T + 12, None),
    ], "the legacy revision view lists requests, each with its builds"


def test_dumps_have_one_entry_per_build_in_whole_seconds(master: Master, tmp_path: Path) -> None:
    write_live_dumps(master.databases, master.layout, tmp_path, T + 3600)
    running = json.loads((tmp_path / RUNNING).read_bytes())
    assert running == master.get("/running")
    document = json.loads(gzip.decompress((tmp_path / FOUR_HOURS).read_bytes()))
    (build,) = document["builds"]
    assert build["request_ids"] == [4, 5] and build["buildnumber"] == 6
    assert (build["requesttime"], build["starttime"], build["endtime"]) == (T + 1, T + 5, T + 15)
    for data in (running, document):
        found = list(time_values(data))
        assert found and all(type(value) is int for _key, value in found if value is not None)


TIME_KEY = re.compile(r"(time|_at|timestamp|heartbeat|duration)$")
NOT_TIMES = {"ptg_run_time"}  # a percentage, as a string
WINDOW = f"starttime={T - 60}&endtime={T + 3600}"


def time_values(data: Any) -> Iterator[tuple[str, Any]]:
    """(key, value) of every time-like key, anywhere in a JSON document; build properties are
    the master's own data, served as it wrote them."""
    if isinstance(data, list):
        for value in data:
            yield from time_values(value)
    elif isinstance(data, dict):
        for name, value in data.items():
            if name == "properties":
                continue
            if TIME_KEY.search(name) and name not in NOT_TIMES and not isinstance(value, dict):
                yield name, value
            yield from time_values(value)


@pytest.mark.parametrize(
    "path",
    [
        "/pending",
        "/running",
        f"/revision/mozilla-inbound/{REV}",
        "/self-serve/mozilla-inbound?date={day}",
        f"/self-serve/mozilla-inbound/rev/{REV}",
        "/self-serve/mozilla-inbound/build/6",
        "/self-serve/mozilla-inbound/request/4",
        "/self-serve/mozilla-inbound/user/alice@example.com",
        "/recent",
        f"/reports/waittimes/buildpool?{WINDOW}",
        f"/reports/pushes?{WINDOW}",
        f"/reports/endtoend/mozilla-inbound?{WINDOW}",
        f"/reports/revision/mozilla-inbound/{REV}",
        f"/reports/builders/mozilla-inbound?{WINDOW}",
        f"/reports/builder/{BUILDER}?{WINDOW}",
        f"/reports/trychooser/mozilla-inbound?{WINDOW}",
        "/reports/waittimes",
    ],
)
def test_every_time_is_whole_seconds(master: Master, path: str) -> None:
    data = master.get(path.replace("{day}", the_day(master.settings)))
    found = list(time_values(data))
    assert found, "the view serves times"
    wrong = [(key, value) for key, value in found if value is not None and type(value) is not int]
    assert not wrong
