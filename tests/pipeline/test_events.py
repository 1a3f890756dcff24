"""/events from a real `buildapi web`: the farm's changes and a job's answer arrive as events,
a reconnect with Last-Event-ID resumes, and an open stream does not hold up shutdown."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.pipeline.conftest import settings_env
from tests.pipeline.live_site import BRANCH, Site, live_site, requests_of_branch
from tests.processes import free_port, running, wait_until
from tests.sse import EventStream, Received


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with live_site(tmp_path_factory.mktemp("events"), "sqlite") as site:
        yield site


@pytest.fixture
def stream(site: Site) -> Iterator[EventStream]:
    opened = EventStream(site.url + "/events")
    assert opened.response.status_code == 200
    assert opened.response.headers["content-type"].startswith("text/event-stream")
    yield opened
    opened.close()


def farm_moves(site: Site) -> None:
    site.farmed.farm.advance(600.0, tick=60.0)


def test_a_build_is_told_when_it_starts_and_when_it_finishes(
    site: Site, stream: EventStream
) -> None:
    started = stream.wait_for(
        lambda e: e.name == "build" and e.data["state"] == "running", 60, lambda: farm_moves(site)
    )
    assert started.data["branch"] in site.farmed.layout.branches
    assert len(started.data["revision"]) == 40 and started.data["request_ids"]
    finished = stream.wait_for(
        lambda e: (
            e.name == "build"
            and e.data["build_id"] == started.data["build_id"]
            and e.data["state"] in ("finished", "cancelled")
        ),
        120,
        lambda: farm_moves(site),
    )
    assert isinstance(finished.data["result"], int)


def test_a_new_request_and_a_job_answer_are_told(site: Site, stream: EventStream) -> None:
    brid, _revision = requests_of_branch(site.farmed, pending=False)[0]
    job_id = site.act("POST", f"/self-serve/{BRANCH}/request", data={"request_id": brid})
    told: dict[str, Received] = {}

    def told_both(event: Received) -> bool:
        if event.name == "job" or (event.name == "request" and event.data["state"] == "pending"):
            told[event.name] = event
        return len(told) == 2

    stream.wait_for(told_both, 10, lambda: None)
    assert told["job"].data["job_id"] == job_id and told["job"].data["errors"] is False
    assert told["request"].data["branch"] == BRANCH


def collect(stream: EventStream, count: int, site: Site) -> list[Received]:
    got: list[Received] = []
    while len(got) < count:
        got.append(stream.wait_for(lambda e: e.name != "reset", 60, lambda: farm_moves(site)))
    return got


def test_a_reconnect_with_last_event_id_gets_what_it_missed(
    site: Site, stream: EventStream
) -> None:
    seen = collect(stream, 3, site)
    stream.close()
    again = EventStream(site.url + "/events", headers={"Last-Event-ID": seen[0].id or ""})
    try:
        resumed = [again.next(10), again.next(10)]
    finally:
        again.close()
    assert [(e.id, e.data) for e in resumed if e] == [(e.id, e.data) for e in seen[1:]]


def test_a_reconnect_with_an_unknown_id_is_told_to_reload(site: Site) -> None:
    stream = EventStream(site.url + "/events", headers={"Last-Event-ID": "elsewhere-12"})
    try:
        first = stream.next(10)
    finally:
        stream.close()
    assert first is not None and first.name == "reset"
    assert first.id and first.id.rsplit("-", 1)[1].isdigit()


def open_streams(site: Site) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    text = httpx.get(f"{site.url}/metrics", timeout=30).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "buildapi_event_streams"
    )


def test_a_client_that_goes_away_is_forgotten(site: Site) -> None:
    # The module's earlier tests closed their streams; the server forgets those the same way.
    wait_until(lambda: open_streams(site) == 0, 20, "the earlier tests' streams forgotten")
    stream = EventStream(site.url + "/events")
    try:
        wait_until(lambda: open_streams(site) == 1, 10, "the stream counted")
    finally:
        stream.close()
    wait_until(lambda: open_streams(site) == 0, 20, "the stream forgotten")


def test_an_unknown_branch_is_refused(site: Site) -> None:
    response = httpx.get(site.url + "/events?branch=nowhere", timeout=10)
    assert response.status_code == 404, response.text


def test_an_open_stream_does_not_hold_up_shutdown(site: Site) -> None:
    port = free_port()
    with running(["web", "--port", str(port)], env=settings_env(site.farmed.settings)) as (
        web,
        _output,
    ):
        stream = EventStream(f"http://127.0.0.1:{port}/events")
        try:
            assert stream.response.status_code == 200
            asked = time.monotonic()
            web.send_signal(signal.SIGTERM)
            web.wait(timeout=10)
            took = time.monotonic() - asked
            assert stream.next(10) is None  # the stream ended
        finally:
            stream.close()
    print(f"stopped {took:.2f} s after SIGTERM with a stream open")
    # uvicorn raises the signal again once it has shut down: that is its exit status.
    assert web.returncode == -signal.SIGTERM
    assert took < 5
