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
    newest = select(builds.c.id).order_by(builds.c.id.desc()).limit(limit)
    if slave is not None:
        if greedy:
            match = slaves.c.name.like(f"{escape_like(slave)}%", escape="\\")
        else:
            match = slaves.c.name == slave
        newest = newest.join(slaves, slaves.c.id == builds.c.slave_id).where(
            and_(match, builds.c.result.is_not(None))
        )
    # The newest ids first, then their details: joining the properties of every build before
    # the LIMIT made SQLite materialise the whole table.
    chosen = newest.subquery()
    named = (
        select(build_properties.c.build_id, properties.c.value)
        .join(properties, properties.c.id == build_properties.c.property_id)
        .join(chosen, chosen.c.id == build_properties.c.build_id)
        .where(properties.c.name == "buildername")
        .subquery()
    )
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
            named.c.value,
        )
        .join(chosen, chosen.c.id == builds.c.id)
        .join(builders, builders.c.id == builds.c.builder_id)
        .join(slaves, slaves.c.id == builds.c.slave_id)
        .outerjoin(masters, masters.c.id == builds.c.master_id)
        .outerjoin(named, named.c.build_id == builds.c.id)
        .order_by(builds.c.id.desc())
    )
    return [RecentBuild(*row) for row in connection.execute(query)]
