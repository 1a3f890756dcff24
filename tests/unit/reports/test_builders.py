"""Builder averages on known requests: finished ones only, integer averages, level lists."""

from __future__ import annotations

from buildapi.reports.builders import builder_tree
from buildapi.reports.requests import BuildRequest
from buildapi.reports.window import Window

WINDOW = Window(0.0, 10_000.0, 1000)


def request(
    brid: int, name: str, start: int | None, done: int | None, results: int
) -> BuildRequest:
    return BuildRequest(
        brid=brid,
        bid=brid,
        number=1,
        buildsetid=1,
        buildername=name,
        branch="m-c",
        branch_name="m-c",
        ssid=1,
        revision="a" * 40,
        submitted_at=1,
        claimed_at=start,
        start_time=start,
        complete_at=done,
        finish_time=done,
        claimed_by_name="m",
        complete=1 if done else 0,
        reason=None,
        results=results,
    )


BUILD = "Linux mozilla-central build"
TEST = "Ubuntu VM 12.04 x64 mozilla-central opt test xpcshell"
REQUESTS = [
    request(1, BUILD, 100, 1100, 0),  # 1000 s
    request(2, BUILD, 200, 701, 2),  # 501 s
    request(3, TEST, 300, 600, 1),  # 300 s
    request(4, TEST, 400, None, -1),  # running: left out
]


def test_builder_level_averages() -> None:
    data = builder_tree(REQUESTS, "m-c", WINDOW, detail_level="builder", filters={})
    assert data["sum_run_time"] == 1801
    build, test = data["builders"]
    assert (build["buildername"], build["avg_run_time"], build["min_run_time"]) == (BUILD, 750, 501)
    assert (build["max_run_time"], build["total_build_requests"]) == (1000, 2)
    assert (build["results_success"], build["results_failure"]) == (1, 1)
    assert build["ptg_run_time"] == "83.34"
    assert (test["total_build_requests"], test["avg_run_time"], test["ptg_run_time"]) == (
        1,
        300,
        "16.66",
    )


def test_levels_and_filters() -> None:
    branch = builder_tree(REQUESTS, "m-c", WINDOW, detail_level="branch", filters={})
    assert [node["total_build_requests"] for node in branch["builders"]] == [3]
    jobs = builder_tree(
        REQUESTS,
        "m-c",
        WINDOW,
        detail_level="job_type",
        filters={"platform": [], "build_type": [], "job_type": ["unittest"]},
    )
    assert [(n["job_type"], n["sum_run_time"]) for n in jobs["builders"]] == [("unittest", 300)]
