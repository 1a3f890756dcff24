"""Real servers the tests use when their URLs are set (CI sets them all).

A test that needs a server skips with a reason when its URL is missing, unless
BUILDAPI_REQUIRE_SERVICES=1, which turns the missing server into a failure.
"""

from __future__ import annotations

import os

import pytest

SERVICES = {
    "postgresql": "TEST_POSTGRESQL_URL",
    "mysql": "TEST_MYSQL_URL",
    "amqp": "TEST_AMQP_URL",
    "redis": "TEST_REDIS_URL",
    "chromium": "TEST_CHROMIUM",
    "buildbot08": "TEST_BUILDBOT08",
    "nginx": "TEST_NGINX",
    "check_http": "TEST_CHECK_HTTP",
    # 1 when the servers `buildapi cluster` runs privately are installed: rabbitmq-server,
    # postgresql (initdb), mariadb-server, redis-server, nginx
    "cluster": "TEST_CLUSTER",
}


def required() -> bool:
    return os.environ.get("BUILDAPI_REQUIRE_SERVICES") == "1"


def service_url(name: str) -> str:
    """The URL of service `name`, or skip (fail when services are required)."""
    variable = SERVICES[name]
    url = os.environ.get(variable)
    if url:
        return url
    reason = f"{name} not configured: set {variable} (.ci/services.sh prints it)"
    if required():
        pytest.fail(f"BUILDAPI_REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)
