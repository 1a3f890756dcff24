"""The grid's shaping: platforms, merged requests folded once, states and results."""

from __future__ import annotations

import pytest

from buildapi.db.queries.grid import GridRow, PushRow
from buildapi.db.queries.selfserve import RequestRow
from buildapi.errors import BadInput
from buildapi.layout.models import Builder
from buildapi.selfserve import grid

BRANCH = "mozilla-inbound"
OLD, NEW = "a" * 40, "b" * 40
LAYOUT = {
    "Linux mozilla-inbound build": Builder.model_validate(
        {
            "properties": {"branch": BRANCH, "platform": "linux"},
            "slavepool": "b-linux",
            "shortname": "mozilla-inbound-linux",
            "kind": "build",
        }
    )
}


def request(
    brid: int,
    builder: str = "Linux mozilla-inbound build",
    revision: str = NEW,
    claimed_at: int = 0,
    complete: int = 0,
    results: int | None = None,
) -> RequestRow:
    return RequestRow(
        brid, builder, BRANCH, revision, 100 + brid, complete, None, 0, claimed_at, "scheduler",
        1, results, "master1" if claimed_at else None, None,
    )  # fmt: skip


def row(
    req: RequestRow,
    build_id: int | None = None,
    number: int | None = None,
    finish: int | None = None,
    retried: bool = False,
) -> GridRow:
    started = None if build_id is None else 200
    ran_on = None if retried or build_id is None else req.claimed_by_name
    return GridRow(req, build_id, number, started, finish, ran_on, retried)


def pushes() -> list[PushRow]:
    return [PushRow(2, NEW, "b@example.org", "Bug 2", 20), PushRow(1, OLD, "a@example.org", "", 10)]


def test_platform_is_the_layouts_else_the_words_before_the_branch() -> None:
    assert grid.platform_of(LAYOUT, "Linux mozilla-inbound build", BRANCH) == "linux"
    named = "Ubuntu VM 12.04 x64 mozilla-inbound opt test xpcshell"
    assert grid.platform_of(LAYOUT, named, BRANCH) == "Ubuntu VM 12.04 x64"
    assert grid.platform_of(LAYOUT, "fuzzer-linux64", BRANCH) == grid.OTHER_PLATFORM
    assert grid.cell_label(named, BRANCH) == "o xpcshell"


def test_a_build_of_merged_requests_is_one_job_in_the_push_it_built() -> None:
    older, newer = request(1, revision=OLD, claimed_at=150), request(2, claimed_at=150)
    rows = [row(older, 10, 7), row(newer, 11, 7)]
    shown = grid.grid_pushes(pushes(), rows, LAYOUT, BRANCH, grid.GridFilter())
    assert [len(push["jobs"]) for push in shown] == [1, 0]
    job = shown[0]["jobs"][0]
    assert (job["request_ids"], job["build_id"], job["state"]) == ([1, 2], 11, "running")
    assert job["platform"] == "linux"


def test_states_and_results() -> None:
    rows = [
        row(request(1)),  # pending
        row(request(2, claimed_at=150)),  # claimed, its build row not written yet
        row(request(3, claimed_at=150, complete=1, results=6)),  # cancelled before it ran
        row(request(4, claimed_at=150), 40, 1, retried=True),  # ended in RETRY, running again
        row(request(4, claimed_at=150), 41, 2),
        row(request(5, claimed_at=150, complete=1, results=2), 50, 3, finish=300),
    ]
    jobs = grid.fold_jobs(rows, LAYOUT, BRANCH)
    assert [(job["state"], job["result"], job["build_id"]) for job in jobs] == [
        ("pending", None, None),
        ("running", None, None),
        ("finished", 6, None),
        ("finished", 5, 40),
        ("running", None, 41),
        ("finished", 2, 50),
    ]


def test_filters_keep_matching_jobs_and_every_push() -> None:
    rows = [row(request(1)), row(request(2, builder="Other mozilla-inbound thing"))]
    wanted = grid.GridFilter(builder="LINUX", state="pending")
    shown = grid.grid_pushes(pushes(), rows, LAYOUT, BRANCH, wanted)
    assert [job["request_ids"] for job in shown[0]["jobs"]] == [[1]]
    assert [push["push_id"] for push in shown] == [2, 1]
    assert grid.platforms_of(shown) == ["linux"]
    by_platform = grid.GridFilter(platform="Other")
    assert [
        j["platform"]
        for j in grid.grid_pushes(pushes(), rows, LAYOUT, BRANCH, by_platform)[0]["jobs"]
    ] == ["Other"]


def test_result_and_state_filters_are_checked() -> None:
    assert grid.parse_result("FAILURE") == 2
    assert grid.parse_result("6") == 6
    assert grid.parse_result("") is None
    with pytest.raises(BadInput, match="result must be"):
        grid.parse_result("7")
    with pytest.raises(BadInput, match="state must be one of pending, running, finished"):
        grid.parse_state("done")
