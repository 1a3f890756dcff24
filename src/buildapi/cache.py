"""Short-lived caches of rendered responses: in-process by default, Redis when `cache_url` is
set (shared by several web workers). A broken cache is logged and bypassed, never an error.

Each cache also keeps a write epoch that every web process of the site sees: storing a job's
answer advances it, and the keys of responses a job can change include it, so no reader is
served what was cached before the job's effect."""

from __future__ import annotations

import fcntl
import logging
import mmap
import os
import struct
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)


class Cache(Protocol):
    def get(self, key: str) -> bytes | None: ...

    def set(self, key: str, value: bytes, ttl: int) -> None: ...

    def ping(self) -> None:
        """Raise if the cache cannot be reached (for the health checks; get and set never
        raise)."""
        ...

    def lookup(self, key: str) -> tuple[int | None, bytes | None]:
        """The write epoch and the entry of `key`, read together (one round trip); no epoch
        when it cannot be read, and then nothing should be served from the cache."""
        ...

    def advance_epoch(self) -> None:
        """Every entry keyed by an older epoch is stale from now on."""
        ...


class LocalCounter:
    """The epoch of a single process."""

    def __init__(self) -> None:
        self._value = 0
        self._lock = threading.Lock()

    def value(self) -> int:
        return self._value

    def advance(self) -> None:
        with self._lock:
            self._value += 1


class FileCounter:
    """The epoch of the workers of one host, in a file each of them maps: reading it is a
    memory read, advancing it holds the file's lock."""

    SIZE = 8

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        if os.fstat(self._fd).st_size < self.SIZE:
            os.ftruncate(self._fd, self.SIZE)  # never shrinks: a sibling's value stays
        self._map = mmap.mmap(self._fd, self.SIZE)

    def value(self) -> int:
        return struct.unpack_from("<q", self._map)[0]

    def advance(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            struct.pack_into("<q", self._map, 0, self.value() + 1)
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)


class MemoryCache:
    """A bounded LRU dictionary with per-entry expiry; its epoch is this process's, or that
    of every worker mapping `epoch_file`."""

    def __init__(
        self,
        max_entries: int = 2000,
        clock: Callable[[], float] = time.monotonic,
        epoch_file: Path | None = None,
    ) -> None:
        self._counter = FileCounter(epoch_file) if epoch_file else LocalCounter()
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._max = max_entries
        self._clock = clock
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            expires, value = entry
            if expires <= self._clock():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return value

    def set(self, key: str, value: bytes, ttl: int) -> None:
        with self._lock:
            self._entries[key] = (self._clock() + ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def ping(self) -> None:
        """In this process: always there."""

    def lookup(self, key: str) -> tuple[int | None, bytes | None]:
        return self._counter.value(), self.get(key)

    def advance_epoch(self) -> None:
        self._counter.advance()


class RedisCache:
    """Entries expire on the Redis server (SET with EX)."""

    def __init__(self, url: str, timeout: float = 1.0) -> None:
        import redis

        self._client = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        self._errors = (redis.RedisError, OSError)

    def get(self, key: str) -> bytes | None:
        try:
            return self._client.get(key)
        except self._errors as exc:
            log.warning("cache read failed, computing instead: %s", exc)
            return None

    def set(self, key: str, value: bytes, ttl: int) -> None:
        try:
            self._client.set(key, value, ex=ttl)
        except self._errors as exc:
            log.warning("cache write failed: %s", exc)

    def ping(self) -> None:
        self._client.ping()

    def lookup(self, key: str) -> tuple[int | None, bytes | None]:
        try:
            epoch, value = self._client.mget(EPOCH_KEY, key)
        except self._errors as exc:
            log.warning("cache read failed, computing instead: %s", exc)
            return None, None
        return int(epoch or 0), value

    def advance_epoch(self) -> None:
        try:
            self._client.incr(EPOCH_KEY)
        except self._errors as exc:
            log.warning("cache epoch not advanced; entries may be stale until they expire: %s", exc)


EPOCH_KEY = "buildapi:epoch"


def make_cache(url: str, epoch_file: Path | None = None) -> Cache:
    """Redis for `url`; otherwise in-process, with its epoch shared through `epoch_file` by
    the workers of one host."""
    if not url:
        return MemoryCache(epoch_file=epoch_file)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisCache(url)
    raise ValueError(f"unsupported cache_url {url!r}; use redis://host:port/db or leave empty")
