"""Response caches: expiry, bounds, Redis, a broken cache, and the web's use of them."""

from __future__ import annotations

import uuid

import httpx
import pytest

from buildapi.cache import MemoryCache, RedisCache, make_cache
from tests.services import service_url


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_memory_cache_expires_and_stays_bounded() -> None:
    clock = Clock()
    cache = MemoryCache(max_entries=2, clock=clock)
    cache.set("a", b"1", ttl=10)
    assert cache.get("a") == b"1"
    clock.now = 10.0
    assert cache.get("a") is None
    cache.set("a", b"1", 10)
    cache.set("b", b"2", 10)
    cache.get("a")
    cache.set("c", b"3", 10)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (b"1", None, b"3")


def test_redis_cache_round_trip_with_expiry() -> None:
    import redis

    url = service_url("redis")
    cache = make_cache(url)
    assert isinstance(cache, RedisCache)
    key = f"test:{uuid.uuid4().hex}"
    cache.set(key, b"value", ttl=30)
    assert cache.get(key) == b"value"
    assert 0 < redis.Redis.from_url(url).ttl(key) <= 30


def test_broken_redis_is_bypassed() -> None:
    cache = RedisCache("redis://127.0.0.1:1/0", timeout=0.5)
    cache.set("k", b"v", ttl=5)
    assert cache.get("k") is None


def test_unknown_cache_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported cache_url"):
        make_cache("memcached://x")


def test_web_caches_per_format(client: httpx.Client) -> None:
    first = client.get("/self-serve/branches?format=json")
    assert "x-cache" not in first.headers
    again = client.get("/self-serve/branches?format=json")
    assert again.headers["x-cache"] == "hit" and again.json() == first.json()
    assert again.headers["content-type"] == "application/json"
    page = client.get("/self-serve/branches")
    assert "x-cache" not in page.headers and "<pre>" in page.text
    assert client.get("/self-serve/branches").headers["x-cache"] == "hit"


def test_errors_and_jobs_are_not_cached(client: httpx.Client) -> None:
    for path in ("/self-serve/nowhere?format=json", "/self-serve/jobs?format=json"):
        client.get(path)
        assert "x-cache" not in client.get(path).headers
