"""The masters' web interface and the clobberer, as the self-serve agent meets them over HTTP.

One ASGI app answers on every master's port and on the clobberer's; the local port of the
connection tells which master (or the clobberer) was asked.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from buildapi.db.queries.changes import NewChange
from buildapi.errors import BadInput, BuildAPIError, NotFound
from buildapi.farm.farm import Farm
from buildapi.layout import Master
from buildapi.parsing import json_field
from buildapi.vocabulary import Result

REVISION = re.compile(r"[0-9a-fA-F]{12,40}")


def create_farm_app(farm: Farm, ports: Mapping[int, Master], clobberer_port: int) -> Starlette:
    """`ports`: local port -> the master listening there."""

    async def dispatch(request: Request) -> Response:
        port = (request.scope.get("server") or ("", 0))[1]
        try:
            if port == clobberer_port and request.url.path.rstrip("/") == "/clobberer":
                return await _clobberer(request, farm)
            master = ports.get(port)
            if master is None:
                raise NotFound(f"nothing serves {request.url.path} on port {port}")
            return await _master(request, farm, master)
        except BuildAPIError as exc:
            return _error(exc)

    methods = ["GET", "POST", "PUT", "DELETE"]
    return Starlette(routes=[Route("/{path:path}", dispatch, methods=methods)])


STATUS = {BadInput: 400, NotFound: 404}


def _error(exc: BuildAPIError) -> Response:
    status = next(code for kind, code in STATUS.items() if isinstance(exc, kind))
    return JSONResponse({"status": "FAILED", "msg": exc.msg}, status_code=status)


async def _master(request: Request, farm: Farm, master: Master) -> Response:
    parts = [part for part in request.url.path.split("/") if part]
    method = request.method
    if parts == ["change_hook", "base"] and method == "POST":
        return await _change_hook(request, farm)
    if len(parts) == 2 and parts[0] == "buildslaves" and method == "GET":
        return _slave_page(farm, parts[1])
    if len(parts) in (4, 5) and parts[0] == "builders" and parts[2] == "builds":
        number = _build_number(parts[3])
        if len(parts) == 4 and method == "GET":
            return await run_in_threadpool(_build_page, farm, master, parts[1], number)
        if len(parts) == 5 and parts[4] == "stop" and method == "POST":
            # A real master redirects to the build page whether the build was running or not.
            await run_in_threadpool(farm.stop_build, master.name, parts[1], number)
            target = f"/builders/{quote(parts[1], safe='')}/builds/{number}"
            return RedirectResponse(target, status_code=302)
    raise NotFound(f"{master.name} has no {method} {request.url.path}")


def _build_number(text: str) -> int:
    if not text.isdigit():
        raise BadInput(f"build number must be a non-negative integer, not {text!r}")
    return int(text)


def _build_page(farm: Farm, master: Master, buildername: str, number: int) -> Response:
    build = farm.find_build(master.name, buildername, number)
    if build is None:
        raise NotFound(f"no build {number} of {buildername!r} on {master.name}")
    result = "running" if build.endtime is None else Result(build.result or 0).legacy_name
    name = html.escape(buildername)
    slave = html.escape(build.slave)
    body = (
        f"<html><head><title>{name} build #{number}</title></head><body>"
        f"<h1>Builder {name} Build #{number}</h1>"
        f"<p>Result: <b>{result}</b></p>"
        f'<p>Buildslave: <a href="../../../buildslaves/{quote(build.slave)}">{slave}</a></p>'
        f"<p>Started: {build.starttime} UTC; finished: {build.endtime or '-'}</p>"
        "</body></html>"
    )
    return HTMLResponse(body)


def _slave_page(farm: Farm, slave: str) -> Response:
    running = [
        build
        for builds in (farm.running, farm.idling)
        for build in builds.values()
        if build.slave == slave
    ]
    if not running and slave not in farm.slaves.known:
        raise NotFound(f"no slave {slave!r}")
    doing = (
        f"building {html.escape(running[0].buildername)} #{running[0].number}"
        if running
        else "idle"
    )
    title = f"<h1>Buildslave {html.escape(slave)}</h1>"
    return HTMLResponse(f"<html><body>{title}{doing}</body></html>")


async def _change_hook(request: Request, farm: Farm) -> Response:
    form = await request.form()
    change = _parse_change(farm, {key: str(value) for key, value in form.items()})
    changeid = await run_in_threadpool(farm.send_change, change)
    return JSONResponse({"status": "OK", "changeid": changeid})


def _parse_change(farm: Farm, fields: Mapping[str, str]) -> NewChange:
    """Buildbot's base change hook fields, checked before anything is written. As strict as a
    real 0.8.2 master: it reads the author from `who` (not `author`) and stores `repository`
    and `project` in NOT NULL columns, so a change without them fails there."""
    missing = [name for name in ("who", "repository", "project") if name not in fields]
    if missing:
        raise BadInput(f"{', '.join(missing)} required: a Buildbot 0.8.2 master needs them")
    revision = fields.get("revision", "")
    if not REVISION.fullmatch(revision):
        raise BadInput("revision must be 12 to 40 hexadecimal characters")
    branch = fields.get("branch", "")
    short = farm.layout.branch_for_repo_path(branch)
    if short is None:
        raise BadInput(f"unknown branch {branch!r}")
    files = json_field(fields, "files", list, [])
    if not all(isinstance(name, str) for name in files):
        raise BadInput("files must be a JSON list of strings")
    json_field(fields, "properties", dict, {})
    return NewChange(
        author=fields["who"],
        comments=fields.get("comments", ""),
        branch=farm.layout.branches[short].repo_path,
        revision=revision,
        when_timestamp=farm.clock.now(),  # on arrival; the farm writes it at its write time
        revlink=fields.get("revlink") or None,
        repository=fields["repository"],
        project=fields["project"],
        category=fields.get("category") or None,
        files=tuple(files),
    )


async def _clobberer(request: Request, farm: Farm) -> Response:
    if request.method == "GET":
        return JSONResponse(
            [
                {"slave": c.slave, "buildername": c.buildername, "requested_at": c.requested_at}
                for c in farm.clobbers
            ]
        )
    if request.method != "POST":
        raise BadInput("the clobberer takes GET or POST")
    try:
        entries = json.loads(await request.body())
    except json.JSONDecodeError as exc:
        raise BadInput(f"body is not valid JSON: {exc.msg}") from None
    _check_clobbers(farm, entries)
    for entry in entries:
        farm.record_clobber(entry["slave"], entry["buildername"])
    return JSONResponse({"status": "OK", "recorded": len(entries)})


def _check_clobbers(farm: Farm, entries: Any) -> None:
    if not isinstance(entries, list) or not entries:
        raise BadInput('body must be a non-empty JSON list of {"slave", "buildername"}')
    for entry in entries:
        if not isinstance(entry, dict) or set(entry) != {"slave", "buildername"}:
            raise BadInput('each entry must have exactly "slave" and "buildername"')
        if entry["slave"] not in farm.slaves.known:
            raise BadInput(f"unknown slave {entry['slave']!r}")
        if entry["buildername"] not in farm.layout.builders:
            raise BadInput(f"unknown builder {entry['buildername']!r}")
