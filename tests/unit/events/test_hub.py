"""Event ids, resume after a reconnect, slow and closed subscribers."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from buildapi.events.hub import RESET, EventHub


def in_own_loop(scenario: Coroutine[Any, Any, None]) -> None:
    """Run the scenario in a thread of its own: a session's browser (Playwright's sync API)
    keeps an event loop running in the main thread, where asyncio.run refuses to start."""
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, scenario).result()


def events(*numbers: int) -> list[tuple[str, dict]]:
    return [("build", {"n": n}) for n in numbers]


def test_ids_name_the_process_and_count_up() -> None:
    hub = EventHub(process="p1")
    hub.publish(events(1, 2))
    assert [event.id for event in hub.since("p1-0") or []] == ["p1-1", "p1-2"]


def test_a_reconnect_gets_what_it_missed() -> None:
    hub = EventHub(keep=5, process="p1")
    hub.publish(events(1, 2, 3))
    assert [event.data["n"] for event in hub.since("p1-1") or []] == [2, 3]
    assert hub.since("p1-3") == []


def test_an_id_that_cannot_be_resumed_from_is_refused() -> None:
    hub = EventHub(keep=2, process="p1")
    hub.publish(events(1, 2, 3, 4))
    assert hub.since("p1-1") is None  # older than the oldest kept
    assert [event.data["n"] for event in hub.since("p1-2") or []] == [3, 4]
    assert hub.since("p2-3") is None  # another process's
    assert hub.since("p1-9") is None  # from the future: a restarted process
    assert hub.since("nonsense") is None
    reset = hub.reset_event("why")
    assert (reset.id, reset.name, reset.data["reason"]) == ("p1-4", RESET, "why")


def test_subscribers_get_events_and_go_when_done() -> None:
    async def scenario() -> None:
        hub = EventHub()
        with hub.subscribe() as subscription:
            assert hub.subscribers == 1
            hub.publish(events(1))
            event = await subscription.next()
            assert event is not None and event.data == {"n": 1}
        assert hub.subscribers == 0

    in_own_loop(scenario())


def test_a_slow_subscriber_is_marked_lost_not_waited_for() -> None:
    async def scenario() -> None:
        hub = EventHub(queue_size=2)
        with hub.subscribe() as slow, hub.subscribe() as quick:
            hub.publish(events(1, 2))
            assert (await quick.next()) is not None and (await quick.next()) is not None
            hub.publish(events(3))
            assert slow.lost and not quick.lost

    in_own_loop(scenario())


def test_closing_ends_every_stream_even_new_ones() -> None:
    async def scenario() -> None:
        hub = EventHub()
        with hub.subscribe() as subscription:
            waiting = asyncio.ensure_future(subscription.next())
            await asyncio.sleep(0)
            hub.close()
            assert await asyncio.wait_for(waiting, 1) is None
        with hub.subscribe() as late:
            assert await asyncio.wait_for(late.next(), 1) is None

    in_own_loop(scenario())
