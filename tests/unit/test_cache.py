"""Response caches: expiry, bounds, Redis, a broken cache, and the web's use of them."""

from __future__ import annotations

import uuid

import httpx
import pytest

from buildapi.cache import MemoryCache, RedisCache, make_cache
from buildapi.config import Settings
from buildapi.db.engines import Databases
from buildapi.layout import FarmLayout
from buildapi.web.app import create_api
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


def test_workers_mapping_one_epoch_file_see_each_other_advance(tmp_path) -> None:  # type: ignore[no-untyped-def]
    first = make_cache("", tmp_path / "epoch")
    second = make_cache("", tmp_path / "epoch")
    alone = make_cache("")
    assert first.lookup("k")[0] == second.lookup("k")[0] == 0
    first.advance_epoch()
    second.advance_epoch()
    assert first.lookup("k")[0] == second.lookup("k")[0] == 2
    assert alone.lookup("k")[0] == 0
    assert make_cache("", tmp_path / "epoch").lookup("k")[0] == 2  # a worker started later


def test_redis_epoch_is_read_with_the_entry() -> None:
    url = service_url("redis")
    first, second = make_cache(url), make_cache(url)
    key = f"test:{uuid.uuid4().hex}"
    first.set(key, b"value", ttl=30)
    epoch, value = second.lookup(key)
    assert value == b"value" and epoch is not None
    first.advance_epoch()
    assert second.lookup(key) == (epoch + 1, b"value")


def test_broken_redis_has_no_epoch() -> None:
    cache = RedisCache("redis://127.0.0.1:1/0", timeout=0.5)
    cache.advance_epoch()  # logged, not raised
    assert cache.lookup("k") == (None, None)


def test_a_job_answer_makes_live_pages_stale_not_others(
    settings: Settings, databases: Databases, layout: FarmLayout
) -> None:
    from starlette.testclient import TestClient

    api = create_api(settings, databases, layout)
    with TestClient(api) as client:
        client.get("/pending?format=json")
        client.get("/self-serve/branches?format=json")
        api.state.buildapi.pipeline.before_answer()
        assert "x-cache" not in client.get("/pending?format=json").headers
        assert client.get("/pending?format=json").headers["x-cache"] == "hit"
        assert client.get("/self-serve/branches?format=json").headers["x-cache"] == "hit"
