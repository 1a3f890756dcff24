"""The events of one process, numbered, the newest kept for clients that reconnect, and handed
to every subscriber's bounded queue. Runs on the event loop; nothing here blocks."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from buildapi.events.feed import Event

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Numbered:
    """An event with its id: `<process>-<number>`, so an id from another process (or from
    before a restart) is known not to be ours."""

    id: str
    name: str
    data: dict[str, Any]


RESET = "reset"


@dataclass(eq=False)
class Subscription:
    queue: asyncio.Queue[Numbered | None]
    # Set when the client fell so far behind that its queue filled: it must reload.
    lost: bool = False

    async def next(self) -> Numbered | None:
        """The next event; None once the hub is closed."""
        return await self.queue.get()


@dataclass
class EventHub:
    keep: int = 1000
    queue_size: int = 1000
    process: str = field(default_factory=lambda: secrets.token_hex(4))

    def __post_init__(self) -> None:
        self._number = 0
        self._kept: deque[Numbered] = deque(maxlen=self.keep)
        self._subscribers: set[Subscription] = set()
        self.closed = False

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def publish(self, events: list[Event]) -> None:
        for name, data in events:
            self._number += 1
            event = Numbered(f"{self.process}-{self._number}", name, data)
            self._kept.append(event)
            for subscription in self._subscribers:
                _offer(subscription, event)

    def since(self, last_id: str) -> list[Numbered] | None:
        """The kept events after `last_id`; None when they cannot be told (an id of another
        process, or older than the oldest kept): the client must reload instead."""
        process, _, number = last_id.rpartition("-")
        if process != self.process or not number.isdigit() or int(number) > self._number:
            return None
        after = int(number)
        oldest = self._number - len(self._kept)
        if after < oldest:
            return None
        return list(self._kept)[after - oldest :]

    def reset_event(self, reason: str) -> Numbered:
        """Tells a client to reload; its id is the newest, so a reconnect resumes from here."""
        return Numbered(f"{self.process}-{self._number}", RESET, {"type": RESET, "reason": reason})

    @contextlib.contextmanager
    def subscribe(self) -> Iterator[Subscription]:
        subscription = Subscription(asyncio.Queue(self.queue_size))
        if self.closed:
            subscription.queue.put_nowait(None)
        self._subscribers.add(subscription)
        try:
            yield subscription
        finally:
            self._subscribers.discard(subscription)

    def close(self) -> None:
        """Every stream ends, so a server shutting down does not wait on its clients."""
        self.closed = True
        for subscription in self._subscribers:
            try:
                subscription.queue.put_nowait(None)
            except asyncio.QueueFull:
                subscription.lost = True  # it ends after the next event it takes


def _offer(subscription: Subscription, event: Numbered) -> None:
    try:
        subscription.queue.put_nowait(event)
    except asyncio.QueueFull:
        subscription.lost = True


async def run_feed(
    poll: Callable[[], list[Event]], hub: EventHub, every: float, stopping: asyncio.Event
) -> None:
    """Poll every `every` seconds until `stopping`, in a thread of its own (named FEED_THREAD,
    so its statements are told from those of requests); a failed poll is logged."""
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(1, thread_name_prefix=FEED_THREAD) as thread:
        while not stopping.is_set():
            try:
                hub.publish(await loop.run_in_executor(thread, poll))
            except Exception as exc:  # a database down: say so each poll, briefly
                log.warning("change feed poll failed, trying again: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), every)


FEED_THREAD = "change-feed"
