"""The read views and dumps over rows a real Buildbot 0.8.2 master wrote: float epoch seconds
served as integers, and a merged build (one builds row per request, each with its own start
time) shown once."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from buildapi.dumps.run import write_live_dumps
from tests.realmaster.conftest import Contract
from tests.realmaster.harness import BRANCH
from tests.realmaster.test_actions import BUILDER, OK, SUCCESS, finished, push, running

TIME_KEYS = ("_at", "_time", "time", "when", "last_heartbeat")


@dataclass(frozen=True)
class Scene:
    """What the master is doing while the views are read."""

    done: str  # a revision whose builds finished
    merged: str  # a revision with one running build of BUILDER made of two requests
    merged_brids: tuple[int, ...]
    waiting: str  # a revision whose BUILDER request waits behind the merged build
    waiting_brid: int


@pytest.fixture(scope="module")
def scene(contract: Contract) -> Iterator[Scene]:
    done, _done_brids = finished(contract)
    merged, merged_first = finished(contract)
    # Two more requests at `merged` wait while BUILDER is busy, then run as one merged build.
    contract.master.close_gate(merged)
    busy, _busy_brids = running(contract)
    (build,) = contract.builds_of(merged_first[BUILDER])
    answer = contract.act(
        "POST", f"/self-serve/{BRANCH}/build", data={"build_id": build.id, "count": 2}
    )
    assert answer == OK
    rebuilt = tuple(
        request.id
        for request in contract.requests_of(merged)
        if request.buildername == BUILDER and request.complete == 0
    )
    assert len(rebuilt) == 2
    contract.master.open_gate(busy)
    for brid in rebuilt:
        contract.wait_running(brid)
    waiting = contract.revision()
    waiting_brid = push(contract, waiting)[BUILDER]
    assert contract.request(waiting_brid).claimed_at == 0
    yield Scene(done, merged, rebuilt, waiting, waiting_brid)
    contract.settle()


def times_in(document: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every (path, value) whose key names a time, anywhere in a JSON document."""
    if isinstance(document, dict):
        for key, value in document.items():
            if isinstance(key, str) and key.endswith(TIME_KEYS) and not isinstance(value, dict):
                yield f"{path}.{key}", value
            yield from times_in(value, f"{path}.{key}")
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from times_in(value, f"{path}[{index}]")


def assert_integer_times(document: Any) -> None:
    found = list(times_in(document))
    assert found, "no times in the document"
    wrong = [(path, value) for path, value in found if value is not None and type(value) is not int]
    assert not wrong, wrong[:5]


def test_the_master_wrote_float_times(contract: Contract, scene: Scene) -> None:
    """The premise: SQLite keeps the fractions of the master's time.time()."""
    start = contract.builds_of(scene.merged_brids[0])[-1].start_time
    if contract.engine == "sqlite":
        assert isinstance(start, float) and start % 1
    else:
        assert isinstance(start, int)


def test_running_shows_a_merged_build_once(contract: Contract, scene: Scene) -> None:
    running_now = contract.get("/running")["running"][BRANCH]
    builds = [item for item in running_now[scene.merged] if item["buildername"] == BUILDER]
    assert len(builds) == 1, builds
    assert builds[0]["request_ids"] == sorted(scene.merged_brids)
    rows = [contract.builds_of(brid)[-1] for brid in scene.merged_brids]
    assert len({row.id for row in rows}) == 2, "a real master writes a row per merged request"
    assert len({row.number for row in rows}) == 1
    if contract.engine == "sqlite":
        assert len({row.start_time for row in rows}) == 2, "each row has its own float start"
    assert_integer_times(running_now)


def test_running_html_lists_the_merged_build_once(contract: Contract, scene: Scene) -> None:
    page = contract.client.get("/running", headers={"Accept": "text/html"})
    assert page.status_code == 200
    rows = [row for row in page.text.split("<tr") if scene.merged[:12] in row and BUILDER in row]
    assert len(rows) == 1, rows


def test_pending_shows_the_waiting_request(contract: Contract, scene: Scene) -> None:
    pending_now = contract.get("/pending")["pending"][BRANCH][scene.waiting]
    assert [item["id"] for item in pending_now] == [scene.waiting_brid]
    assert_integer_times(pending_now)


def test_self_serve_views_read_the_masters_rows(contract: Contract, scene: Scene) -> None:
    brid = scene.merged_brids[0]
    build = contract.builds_of(brid)[-1]
    one = contract.get(f"/self-serve/{BRANCH}/build/{build.id}")
    assert one["buildername"] == BUILDER and one["build_id"] == build.id
    assert one["claimed_by_name"] == contract.master.name
    request = contract.get(f"/self-serve/{BRANCH}/request/{brid}")
    assert request["request_id"] == brid and build.id in request["build_ids"]
    revision = contract.get(f"/self-serve/{BRANCH}/rev/{scene.merged}")
    running_items = [
        item
        for item in revision
        if item.get("buildername") == BUILDER and "build_id" in item and item["endtime"] is None
    ]
    assert len(running_items) == 1, running_items
    assert sorted(r["request_id"] for r in running_items[0]["requests"]) == sorted(
        scene.merged_brids
    )
    day = contract.get(f"/self-serve/{BRANCH}")
    day_running = [
        item
        for item in day
        if item.get("revision") == scene.merged and "build_id" in item and item["endtime"] is None
    ]
    assert [item["buildername"] for item in day_running].count(BUILDER) == 1
    for document in (one, request, revision, day):
        assert_integer_times(document)


def test_is_done_follows_the_master(contract: Contract, scene: Scene) -> None:
    done = contract.get(f"/self-serve/{BRANCH}/rev/{scene.done}/is_done?stableDelay=0")
    assert done == {"stableDelay": 0, "job_complete": True, "job_passed": True}
    busy = contract.get(f"/self-serve/{BRANCH}/rev/{scene.merged}/is_done?stableDelay=0")
    assert busy["job_complete"] is False


def test_live_dumps_fold_and_round_like_the_views(
    contract: Contract, scene: Scene, tmp_path: Path
) -> None:
    paths = write_live_dumps(contract.databases, contract.layout, tmp_path, time.time())
    documents = {path.name: json.loads(path.read_bytes()) for path in paths if path.suffix == ".js"}
    running_dump = documents["builds-running.js"]["running"][BRANCH][scene.merged]
    assert len([item for item in running_dump if item["buildername"] == BUILDER]) == 1
    pending_dump = documents["builds-pending.js"]["pending"][BRANCH][scene.waiting]
    assert [item["id"] for item in pending_dump] == [scene.waiting_brid]
    for document in documents.values():
        assert_integer_times(document)


def test_a_finished_revision_reads_as_success(contract: Contract, scene: Scene) -> None:
    items = contract.get(f"/self-serve/{BRANCH}/rev/{scene.done}")
    assert items and {item["status"] for item in items} == {SUCCESS}
    assert_integer_times(items)


def test_status_views_are_empty_but_well_formed(contract: Contract, scene: Scene) -> None:
    """A Buildbot 0.8.2 master writes no status database (Mozilla's status plugin did), so
    /recent and builds-4hr have nothing to show, and say so in their usual shape."""
    assert contract.get("/recent") == []
    four_hours = contract.client.get("/builddata/buildjson/builds-4hr.js.gz")
    assert four_hours.status_code in (200, 404)
