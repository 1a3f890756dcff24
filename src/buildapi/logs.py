"""How every BuildAPI process logs (the `buildapi` command and each web worker it spawns: a
spawned process starts with Python's defaults). Lines for people or for machines: text or JSON
(`log_format`), each carrying the structured fields its call passed in `extra`, and the id of
the request it was written for.

The web sets REQUEST_ID for the length of each request; every line written meanwhile, in the
request's task or in the threads it hands work to, names that request."""

from __future__ import annotations

import json
import logging
import re
from contextvars import ContextVar
from typing import Literal

from pythonjsonlogger.json import JsonFormatter

LogFormat = Literal["text", "json"]
REQUEST_ID: ContextVar[str | None] = ContextVar("buildapi_request_id", default=None)
# The structured fields a call may pass in `extra`, in the order a text line shows them.
FIELDS = (
    "event",
    "method",
    "route",
    "path",
    "status",
    "duration_seconds",
    "job_id",
    "action",
    "user",
    "peer",
    "client",
    "request_id",
)
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JSON_FORMAT = "%(levelname)s %(name)s %(message)s"


class RequestContext(logging.Filter):
    """Adds the current request's id to a record that does not name one already."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            request_id = REQUEST_ID.get()
            if request_id is not None:
                record.request_id = request_id
        return True


class TextFormatter(logging.Formatter):
    """The usual line, then `key=value` for each structured field the record carries."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        pairs = [
            f"{name}={_quoted(value)}"
            for name in FIELDS
            if (value := getattr(record, name, None)) is not None
        ]
        return " ".join([line, *pairs])


def _quoted(value: object) -> str:
    """A value as is, or JSON-quoted when it holds a space, a quote or a line break, so a
    field cannot pass for another field or another line."""
    text = str(value)
    return json.dumps(text) if not text or re.search(r'[\s"=]', text) else text


def make_formatter(log_format: LogFormat) -> logging.Formatter:
    if log_format == "json":
        return JsonFormatter(
            JSON_FORMAT,
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp=True,
        )
    return TextFormatter(TEXT_FORMAT)


def configure_logging(level: str, log_format: LogFormat) -> None:
    """One handler on the root logger, on stderr; uvicorn's loggers propagate to it."""
    handler = logging.StreamHandler()
    handler.addFilter(RequestContext())
    handler.setFormatter(make_formatter(log_format))
    logging.basicConfig(level=level, handlers=[handler])
    if level != "DEBUG":
        logging.getLogger("alembic").setLevel(logging.WARNING)
