"""A missing server skips a test, unless services are required: then it fails."""

from __future__ import annotations

import pytest

from tests.services import service_url


def test_missing_service_skips(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BUILDAPI_REQUIRE_SERVICES", raising=False)
    monkeypatch.delenv("TEST_REDIS_URL", raising=False)
    with pytest.raises(pytest.skip.Exception, match="TEST_REDIS_URL"):
        service_url("redis")


def test_missing_service_fails_when_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUILDAPI_REQUIRE_SERVICES", "1")
    monkeypatch.delenv("TEST_REDIS_URL", raising=False)
    with pytest.raises(pytest.fail.Exception, match="BUILDAPI_REQUIRE_SERVICES=1"):
        service_url("redis")


def test_configured_service_is_returned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_REDIS_URL", "redis://example:6379/0")
    assert service_url("redis") == "redis://example:6379/0"
