"""The dump files, served as the published builddata URLs were, with caching headers."""

from __future__ import annotations

import re
from email.utils import formatdate, parsedate_to_datetime

from fastapi import APIRouter, Request
from starlette.responses import FileResponse, Response

from buildapi.errors import NotFound
from buildapi.web.deps import State
from buildapi.web.negotiation import OutputFormat
from buildapi.web.responses import render

router = APIRouter()

NAMES = re.compile(r"builds-(pending|running)\.js|builds-(4hr|\d{4}-\d{2}-\d{2})\.js\.gz")
# Browsers poll these two from other origins (TBPL did).
OPEN_TO_ALL = {"builds-pending.js", "builds-running.js"}


@router.get("/builddata/buildjson", summary="The dump files that exist now")
def dump_index(request: Request, fmt: OutputFormat, state: State) -> Response:
    folder = state.settings.dumps_path
    files = sorted(p.name for p in folder.glob("builds-*") if NAMES.fullmatch(p.name))
    return render(request, fmt, {"files": files}, template="dumps.html", title="JSON dumps")


@router.get(
    "/builddata/buildjson/{name}",
    summary="One dump: builds-pending.js, builds-running.js, builds-4hr.js.gz, builds-DAY.js.gz",
    responses={304: {"description": "not modified since If-Modified-Since"}},
)
def dump_file(name: str, request: Request, state: State) -> Response:
    path = state.settings.dumps_path / name
    if not NAMES.fullmatch(name) or not path.is_file():
        raise NotFound(f"no dump named {name}")
    modified = int(path.stat().st_mtime)
    headers = {"Last-Modified": formatdate(modified, usegmt=True)}
    if name in OPEN_TO_ALL:
        headers["Access-Control-Allow-Origin"] = "*"
    if _not_modified(request.headers.get("if-modified-since"), modified):
        return Response(status_code=304, headers=headers)
    if name.endswith(".gz"):
        headers["Content-Encoding"] = "gzip"
    return FileResponse(path, media_type="application/json", headers=headers)


def _not_modified(since: str | None, modified: int) -> bool:
    if not since:
        return False
    try:
        return modified <= parsedate_to_datetime(since).timestamp()
    except (TypeError, ValueError):
        return False
