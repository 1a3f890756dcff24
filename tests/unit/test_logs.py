"""Log lines as text or JSON carry their structured fields and the current request's id."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from buildapi.logs import REQUEST_ID, RequestContext, make_formatter


@pytest.fixture
def captured(request: pytest.FixtureRequest) -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger with one handler as configure_logging makes it, in the format of the param."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestContext())
    handler.setFormatter(make_formatter(request.param))
    logger = logging.getLogger(f"buildapi.test.{request.param}")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


@pytest.mark.parametrize("captured", ["json"], indirect=True)
def test_a_json_line_has_the_fields_and_the_request_id(captured) -> None:  # type: ignore[no-untyped-def]
    logger, stream = captured
    token = REQUEST_ID.set("req-1")
    try:
        logger.info("job %d recorded", 7, extra={"event": "recorded", "job_id": 7, "user": "a@b"})
    finally:
        REQUEST_ID.reset(token)
    logger.warning("outside a request")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert {key: first[key] for key in ("level", "logger", "message", "event", "job_id")} == {
        "level": "INFO",
        "logger": "buildapi.test.json",
        "message": "job 7 recorded",
        "event": "recorded",
        "job_id": 7,
    }
    assert (first["request_id"], first["user"]) == ("req-1", "a@b")
    assert first["timestamp"].endswith("+00:00")
    assert second["level"] == "WARNING" and "request_id" not in second


@pytest.mark.parametrize("captured", ["json"], indirect=True)
def test_a_json_line_keeps_a_traceback_in_one_line(captured) -> None:  # type: ignore[no-untyped-def]
    logger, stream = captured
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("failed")
    (line,) = stream.getvalue().splitlines()
    assert "ValueError: boom" in json.loads(line)["exc_info"]


@pytest.mark.parametrize("captured", ["text"], indirect=True)
def test_a_text_line_ends_with_its_fields_as_key_value(captured) -> None:  # type: ignore[no-untyped-def]
    logger, stream = captured
    token = REQUEST_ID.set("req-2")
    try:
        logger.info("GET /x 200", extra={"status": 200, "route": "/x", "user": None})
    finally:
        REQUEST_ID.reset(token)
    logger.info("plain")
    first, second = stream.getvalue().splitlines()
    assert first.endswith("buildapi.test.text: GET /x 200 route=/x status=200 request_id=req-2")
    assert second.endswith("buildapi.test.text: plain")


@pytest.mark.parametrize("captured", ["text"], indirect=True)
def test_a_text_field_cannot_forge_another_field_or_line(captured) -> None:  # type: ignore[no-untyped-def]
    logger, stream = captured
    logger.info("x", extra={"user": 'eve status=500\nINFO forged "line"', "path": ""})
    (line,) = stream.getvalue().splitlines()
    assert line.endswith(r'x path="" user="eve status=500\nINFO forged \"line\""')
