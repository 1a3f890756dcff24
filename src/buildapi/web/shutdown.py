"""Long-lived responses (event streams) must end when the server is told to stop: the server
waits for every open response before it shuts down, and an event stream never finishes."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def on_stop_signal(stop: Callable[[], None]) -> Iterator[None]:
    """Run `stop` on the event loop when SIGINT or SIGTERM arrives, then the handler that was
    there (the server's own, which starts its graceful shutdown)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signals reach the main thread only; a server elsewhere is stopped otherwise
        return
    loop = asyncio.get_running_loop()
    previous = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}

    def handle(signum: int, frame: FrameType | None) -> None:
        loop.call_soon_threadsafe(stop)
        before = previous[signum]
        if callable(before):
            before(signum, frame)

    for sig in STOP_SIGNALS:
        signal.signal(sig, handle)
    try:
        yield
    finally:
        for sig, before in previous.items():
            if signal.getsignal(sig) is handle:
                signal.signal(sig, before)
