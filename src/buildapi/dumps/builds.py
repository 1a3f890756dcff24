"""The builds dumps (builds-4hr.js.gz, builds-YYYY-MM-DD.js.gz): finished builds of a window
from the status database, in the shape Treeherder and TBPL parse."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from buildapi.db.engines import Databases
from buildapi.db.queries.seconds import round_seconds
from buildapi.db.queries.status_builds import naive_utc
from buildapi.db.queries.status_dump import (
    FinishedBuild,
    builder_names,
    finished_builds,
    slave_names,
)
from buildapi.dumps.shapes import epoch


def build_entry(build: FinishedBuild) -> dict[str, Any]:
    """One build as Treeherder reads it. `requesttime` comes from the `request_times` property,
    where a real master puts its float submission times; the property itself stays as written."""
    props = build.properties
    request_ids = props.get("request_ids") or []
    times = props.get("request_times") or {}
    return {
        "builder_id": build.builder_id,
        "buildnumber": build.buildnumber,
        "endtime": epoch(build.endtime),
        "id": build.id,
        "master_id": build.master_id,
        "properties": props,
        "reason": build.reason,
        "request_ids": request_ids,
        "requesttime": round_seconds(min(times.values())) if times else None,
        "result": build.result,
        "slave_id": build.slave_id,
        "starttime": epoch(build.starttime),
    }


def builds_document(databases: Databases, start: float, end: float) -> Iterator[bytes]:
    """`{"builds": [...], "builders": {id: ...}, "slaves": {id: name}, "starttime", "endtime"}`
    as byte chunks, one build at a time."""
    window = (naive_utc(start), naive_utc(end))
    builder_ids: set[int] = set()
    slave_ids: set[int] = set()
    yield b'{"builds":['
    for index, build in enumerate(finished_builds(databases.statusdb, *window)):
        builder_ids.add(build.builder_id)
        slave_ids.add(build.slave_id)
        yield (b"," if index else b"") + orjson.dumps(build_entry(build))
    builders = builder_names(databases.statusdb, sorted(builder_ids))
    slaves = slave_names(databases.statusdb, sorted(slave_ids))
    yield b'],"builders":' + orjson.dumps({str(key): value for key, value in builders.items()})
    yield b',"slaves":' + orjson.dumps({str(key): value for key, value in slaves.items()})
    yield b',"starttime":%d,"endtime":%d}' % (int(start), int(end))
