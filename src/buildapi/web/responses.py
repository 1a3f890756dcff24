"""Render one result as JSON or HTML, and errors as `{"status": "FAILED", "msg"}` bodies."""

from __future__ import annotations

import csv
import datetime
import functools
import html
import io
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from buildapi import __version__
from buildapi.layout import FarmLayout
from buildapi.vocabulary import Result
from buildapi.web.links import changeset_url, time_element
from buildapi.web.negotiation import names_no_format
from buildapi.web.urls import app_path, link

TEMPLATES_DIR = Path(__file__).parent / "templates"
PLAIN_PAGE = "pre.html"  # the JSON in a page, for endpoints legacy had no page for
ERROR_PAGE = "error.html"
BUILD_PAGE = "build.html"
REQUEST_PAGE = "request.html"
USER_PAGE = "user.html"
BUILDERS_PAGE = "builders.html"
BRANCHES_PAGE = "branches.html"
HEALTH_PAGE = "health.html"
# The pages of endpoints legacy had no page for: a script that names no format reads their
# JSON as the whole text, so it gets the bare document instead; browsers get these pages.
BARE_FOR_SCRIPTS = frozenset(
    {
        PLAIN_PAGE,
        ERROR_PAGE,
        BUILD_PAGE,
        REQUEST_PAGE,
        USER_PAGE,
        BUILDERS_PAGE,
        BRANCHES_PAGE,
        HEALTH_PAGE,
    }
)
STATIC_DIR = Path(__file__).parent / "static"


def make_templates(zone: ZoneInfo, layout: FarmLayout) -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    templates.env.globals["changeset_url"] = functools.partial(changeset_url, layout)
    templates.env.globals["version"] = __version__
    templates.env.globals["zone"] = zone.key
    templates.env.filters["pretty_json"] = pretty_json
    templates.env.filters["localtime"] = lambda epoch: local_time(epoch, zone)
    templates.env.filters["when"] = lambda epoch: time_element(epoch, zone)
    templates.env.filters["localdate"] = lambda epoch: local_date(epoch, zone)
    templates.env.filters["duration"] = duration
    templates.env.filters["result_label"] = result_label
    templates.env.filters["code_spans"] = code_spans
    return templates


def result_label(code: int | None, otherwise: str) -> str:
    """A result as pages name it; `otherwise` for none yet (or a code Buildbot never wrote)."""
    result = Result.of(code)
    return result.label if result is not None else otherwise


def code_spans(text: str) -> Markup:
    """Route docs mark code as Markdown does (`name`): shown as <code>, the rest escaped."""
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", str(escape(text))))


def local_time(epoch: float | None, zone: ZoneInfo) -> str:
    if not epoch:
        return "-"
    return datetime.datetime.fromtimestamp(epoch, zone).strftime("%Y-%m-%d %H:%M:%S")


def local_date(epoch: float, zone: ZoneInfo) -> str:
    """`YYYY-MM-DD` in the zone, as date inputs want it."""
    return datetime.datetime.fromtimestamp(epoch, zone).strftime("%Y-%m-%d")


def duration(seconds: float) -> str:
    """`H:MM:SS`, or `N days, H:MM:SS` past a day; never negative."""
    return str(datetime.timedelta(seconds=max(0, int(seconds))))


def bare_document(data: Any, status: int, headers: dict[str, str] | None) -> HTMLResponse:
    """`<pre>` and the escaped, indented JSON, nothing else: its text is the JSON."""
    text = html.escape(pretty_json(data), quote=False)
    return HTMLResponse(f"<pre>{text}</pre>", status, headers)


def pretty_json(data: Any) -> str:
    return orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode()


def json_bytes(data: Any) -> bytes:
    """Keys are strings almost always, and orjson is slower when told they may not be: the
    option is only used when a plain encoding fails."""
    try:
        return orjson.dumps(data)
    except orjson.JSONEncodeError:
        return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json_bytes(data)
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def csv_response(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    """A table as CSV (RFC 4180 line ends), served as text/csv."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8")


def csv_error(body: dict[str, str], status: int, headers: dict[str, str] | None = None) -> Response:
    """The FAILED body as a one-row CSV table, served as text/plain: a script reading CSV sees
    the message, and no browser tries to open it as a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(body)
    writer.writerow(body.values())
    return Response(out.getvalue(), status, headers, media_type="text/plain; charset=utf-8")


def render(
    request: Request,
    fmt: str,
    data: Any,
    *,
    template: str = PLAIN_PAGE,
    title: str = "",
    status: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Response:
    """JSON of `data`, or an HTML page: `template` (by default the JSON in a <pre>), or for a
    script the bare `<pre>{json}</pre>` document legacy served where it had no page."""
    if fmt == "json":
        return json_response(data, status, headers)
    if template in BARE_FOR_SCRIPTS and names_no_format(request):
        return bare_document(data, status, headers)
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(
        request,
        template,
        {
            "data": data,
            "title": title,
            "url": lambda path: link(request, path),
            "request_path": app_path(request),
            **context,
        },
        status_code=status,
        headers=headers,
    )


def error_response(
    request: Request, fmt: str, status: int, msg: str, headers: dict[str, str] | None = None
) -> Response:
    body = {"status": "FAILED", "msg": msg}
    if fmt == "csv":
        return csv_error(body, status, headers)
    return render(
        request,
        fmt,
        body,
        template=ERROR_PAGE,
        title=f"Error {status}",
        status=status,
        headers=headers,
        code=status,
    )
