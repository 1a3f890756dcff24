"""Recent builds of the status database, newest first, optionally of one slave."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from sqlalchemy import Connection, and_, select

from buildapi.db.queries.live import escape_like
from buildapi.db.schema.status import (
    build_properties,
    builders,
    builds,
    masters,
    properties,
    slaves,
)


@dataclass(frozen=True)
class RecentBuild:
    id: int
    buildname: str
    buildnumber: int
    starttime: datetime.datetime | None
    endtime: datetime.datetime | None
    result: int | None
    slavename: str
    master: str | None
    buildername_json: str | None


def recent_builds(
    connection: Connection, limit: int, slave: str | None = None, greedy: bool = True
) -> list[RecentBuild]:
    """Without a slave, the newest builds, running ones too; with one, its finished builds
    (`greedy`: every slave whose name starts with `slave`)."""
    query = (
        select(
            builds.c.id,
            builders.c.name,
            builds.c.buildnumber,
            builds.c.starttime,
            builds.c.endtime,
            builds.c.result,
            slaves.c.name,
            masters.c.name,
        )
        .join(builders, builders.c.id == builds.c.builder_id)
        .join(slaves, slaves.c.id == builds.c.slave_id)
        .outerjoin(masters, masters.c.id == builds.c.master_id)
        .order_by(builds.c.id.desc())
        .limit(limit)
    )
    if slave is not None:
        if greedy:
            match = slaves.c.name.like(f"{escape_like(slave)}%", escape="\\")
        else:
            match = slaves.c.name == slave
        query = query.where(and_(match, builds.c.result.is_not(None)))
    found = connection.execute(query).all()
    # Names in a second statement, for just these builds: joining the properties of every
    # build before the LIMIT makes SQLite materialise the whole table.
    names = dict(
        connection.execute(
            select(build_properties.c.build_id, properties.c.value)
            .join(properties, properties.c.id == build_properties.c.property_id)
            .where(
                properties.c.name == "buildername",
                build_properties.c.build_id.in_([row[0] for row in found]),
            )
        ).all()
    )
    return [RecentBuild(*row, buildername_json=names.get(row[0])) for row in found]
