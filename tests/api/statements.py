"""The SQL statements an endpoint sends, without those of the web's change poller, which runs
in a thread of its own whenever the app is up."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, event

from buildapi.events.hub import FEED_THREAD


@contextmanager
def sent_statements(*engines: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(*args: object) -> None:
        if not threading.current_thread().name.startswith(FEED_THREAD):
            seen.append(str(args[2]))

    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)
