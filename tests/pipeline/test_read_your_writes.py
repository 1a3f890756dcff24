"""Read your writes: once a job's page says it is complete, every view it changed shows its
effect, from every worker, though those views are cached (30 s for a revision)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.pipeline.live_site import BRANCH, Site, live_site, requests_of_branch
from tests.processes import paused
from tests.services import service_url


@pytest.fixture(scope="module", params=["one worker, SQLite", "two workers, PostgreSQL and Redis"])
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    directory = tmp_path_factory.mktemp("ryw")
    if request.param.startswith("one"):
        with live_site(directory, "sqlite") as site:
            yield site
    else:
        with live_site(directory, "postgresql", 2, cache_url=service_url("redis")) as site:
            yield site


def each_worker(site: Site) -> Iterator[contextlib.AbstractContextManager]:
    """A context in which one worker alone serves, for each worker (one: no pause)."""
    if not site.workers:
        yield contextlib.nullcontext()
        return
    for pid in site.workers:
        yield paused([other for other in site.workers if other != pid])


def pending_ids(items: list[dict[str, Any]]) -> set[int]:
    return {item["request_id"] for item in items if "starttime" not in item}


def cached_revision(site: Site, path: str) -> list[dict[str, Any]]:
    """The revision's jobs, read until the cache answers on every worker (the change feed
    may still be telling a change of the test before, which makes a new key)."""
    for serving in each_worker(site):
        with serving:
            deadline = time.monotonic() + 15
            while (answer := site.get_json(path)).headers.get("x-cache") != "hit":
                assert time.monotonic() < deadline, "the revision view is not cached"
    return answer.json()


def test_the_requests_of_a_rebuild_are_listed_once_its_job_is_complete(site: Site) -> None:
    brid, revision = requests_of_branch(site.farmed, pending=False)[0]
    path = f"/self-serve/{BRANCH}/rev/{revision}?format=json"
    before = pending_ids(cached_revision(site, path))
    site.act("POST", f"/self-serve/{BRANCH}/request", data={"request_id": brid, "count": 2})
    for serving in each_worker(site):
        with serving:
            after = pending_ids(site.get_json(path).json())
            assert len(after - before) == 2, (before, after)


def test_a_cancelled_request_leaves_its_revision_page_at_once(site: Site) -> None:
    brid, revision = requests_of_branch(site.farmed, pending=False)[-1]
    site.act("POST", f"/self-serve/{BRANCH}/request", data={"request_id": brid, "count": 1})
    brid, revision = requests_of_branch(site.farmed, pending=True)[-1]
    path = f"/self-serve/{BRANCH}/rev/{revision}?format=json"
    assert brid in pending_ids(cached_revision(site, path))
    site.get_json("/pending?format=json")
    site.act("DELETE", f"/self-serve/{BRANCH}/request/{brid}")
    for serving in each_worker(site):
        with serving:
            assert brid not in pending_ids(site.get_json(path).json())
            pending = site.get_json("/pending?format=json").json()["pending"]
            listed = {
                item["id"] for revs in pending.values() for its in revs.values() for item in its
            }
            assert brid not in listed
