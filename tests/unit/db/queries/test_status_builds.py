"""The statusdb writer of a long-running farm: its memory stays bounded, and a property id it
has forgotten costs a new row, never a wrong one."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from buildapi.db.engines import Databases
from buildapi.db.queries import status_builds
from buildapi.db.queries.status_builds import StatusBuildStart, StatusWriter
from buildapi.db.schema.status import build_properties, properties


def start(number: int) -> StatusBuildStart:
    return StatusBuildStart(
        buildername="Linux mozilla-inbound build",
        buildnumber=number,
        category="mozilla-inbound",
        master_url="http://master.example:8010/",
        master_name="bm01",
        slave="bld-linux64-ec2-001",
        starttime=1_700_000_000 + number,
        reason="scheduler",
        branch="integration/mozilla-inbound",
        revision="ab" * 20,
        properties={"branch": "mozilla-inbound", "builduid": f"{number:032x}"},
    )


def test_the_writer_keeps_only_recent_property_ids(
    databases: Databases, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(status_builds, "PROPERTY_IDS_KEPT", 10)
    writer = StatusWriter()
    with databases.statusdb.begin() as connection:
        ids = [writer.start_build(connection, start(number)) for number in range(40)]
        assert len(writer._property_ids) <= 10
        found = connection.execute(
            select(build_properties.c.build_id, properties.c.name, properties.c.value).join(
                properties, properties.c.id == build_properties.c.property_id
            )
        ).all()
    by_build = {build_id: {} for build_id in ids}
    for build_id, name, value in found:
        by_build[build_id][name] = json.loads(value)
    assert by_build == {
        build_id: {"branch": "mozilla-inbound", "builduid": f"{number:032x}"}
        for number, build_id in enumerate(ids)
    }
