"""Short-lived caches of rendered responses: in-process by default, Redis when `cache_url` is
set (shared by several web workers). A broken cache is logged and bypassed, never an error."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from typing import Protocol

log = logging.getLogger(__name__)


class Cache(Protocol):
    def get(self, key: str) -> bytes | None: ...

    def set(self, key: str, value: bytes, ttl: int) -> None: ...

    def ping(self) -> None:
        """Raise if the cache cannot be reached (for the health checks; get and set never
        raise)."""
        ...


class MemoryCache:
    """A bounded LRU dictionary with per-entry expiry."""

    def __init__(self, max_entries: int = 2000, clock=time.monotonic) -> None:  # type: ignore[no-untyped-def]
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


def make_cache(url: str) -> Cache:
    if not url:
        return MemoryCache()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisCache(url)
    raise ValueError(f"unsupported cache_url {url!r}; use redis://host:port/db or leave empty")
