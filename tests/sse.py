"""Read a server-sent event stream over HTTP in a thread, so a test waits for an event with a
deadline instead of blocking on the socket."""

from __future__ import annotations

import contextlib
import json
import queue
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Received:
    id: str | None
    name: str
    data: dict[str, Any]


class EventStream:
    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self._client = httpx.Client(timeout=httpx.Timeout(30, read=None))
        self._events: queue.Queue[Received | None] = queue.Queue()
        self.response = self._client.send(
            self._client.build_request("GET", url, headers=headers), stream=True
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        fields: dict[str, str] = {}
        try:
            for line in self.response.iter_lines():
                if line == "":
                    if "data" in fields:
                        self._events.put(
                            Received(
                                fields.get("id"),
                                fields.get("event", "message"),
                                json.loads(fields["data"]),
                            )
                        )
                    fields = {}
                elif not line.startswith(":"):
                    name, _, value = line.partition(":")
                    fields[name] = value.removeprefix(" ")
        except httpx.HTTPError:
            pass
        self._events.put(None)

    def next(self, timeout: float) -> Received | None:
        """The next event; None when the stream ended. Fails after `timeout` seconds."""
        try:
            return self._events.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no event within {timeout}s") from None

    def wait_for(
        self, matches: Callable[[Received], bool], timeout: float, between: Callable[[], None]
    ) -> Received:
        """The first event that `matches`, calling `between` while none has come."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                event = self._events.get(timeout=0.5)
            except queue.Empty:
                between()
                continue
            assert event is not None, "the stream ended"
            if matches(event):
                return event
        raise AssertionError(f"no matching event within {timeout}s")

    def close(self) -> None:
        # Shut the socket down first: that wakes the reader blocked in recv, a close does not.
        stream = self.response.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self.response.close()
        self._client.close()
        self._reader.join(timeout=10)
