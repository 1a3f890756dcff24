"""Finished builds of the status database with their properties, read in pages so a dump of
any window streams in bounded memory."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, or_, select

from buildapi.db.schema.status import build_properties, builders, builds, properties, slaves

PAGE = 2000


@dataclass(frozen=True)
class FinishedBuild:
    id: int
    builder_id: int
    slave_id: int
    master_id: int
    buildnumber: int
    starttime: datetime.datetime | None
    endtime: datetime.datetime | None
    result: int | None
    reason: str | None
    properties: dict[str, Any]


def finished_builds(
    engine: Engine, start: datetime.datetime, end: datetime.datetime, page: int = PAGE
) -> Iterator[FinishedBuild]:
    """Builds that ended in [start, end] (naive UTC, both ends included), by start time."""
    after: tuple[datetime.datetime, int] | None = None
    while True:
        with engine.connect() as connection:
            rows = _page(connection, start, end, after, page)
            found = _properties(connection, [row[0] for row in rows])
        for row in rows:
            yield FinishedBuild(*row, properties=found.get(row[0], {}))
        if len(rows) < page:
            return
        after = (rows[-1][5], rows[-1][0])


def first_build_end(engine: Engine) -> datetime.datetime | None:
    """When the first finished build ended (naive UTC); None while no build has finished."""
    with engine.connect() as connection:
        return connection.execute(select(func.min(builds.c.endtime))).scalar()


def _page(
    connection: Connection,
    start: datetime.datetime,
    end: datetime.datetime,
    after: tuple[datetime.datetime, int] | None,
    page: int,
) -> list:
    query = (
        select(
            builds.c.id,
            builds.c.builder_id,
            builds.c.slave_id,
            builds.c.master_id,
            builds.c.buildnumber,
            builds.c.starttime,
            builds.c.endtime,
            builds.c.result,
            builds.c.reason,
        )
        .where(builds.c.endtime >= start, builds.c.endtime <= end)
        .order_by(builds.c.starttime, builds.c.id)
        .limit(page)
    )
    if after is not None:
        query = query.where(
            or_(
                builds.c.starttime > after[0],
                and_(builds.c.starttime == after[0], builds.c.id > after[1]),
            )
        )
    return list(connection.execute(query))


def _properties(connection: Connection, build_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    if not build_ids:
        return found
    rows = connection.execute(
        select(build_properties.c.build_id, properties.c.name, properties.c.value)
        .join(properties, properties.c.id == build_properties.c.property_id)
        .where(build_properties.c.build_id.in_(build_ids))
    )
    for build_id, name, value in rows:
        try:
            found.setdefault(build_id, {})[name] = json.loads(value)
        except (TypeError, json.JSONDecodeError):
            found.setdefault(build_id, {})[name] = value
    return found


def builder_names(engine: Engine, builder_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(builders.c.id, builders.c.name, builders.c.category, builders.c.master_id).where(
                builders.c.id.in_(sorted(builder_ids))
            )
        )
        return {row[0]: {"name": row[1], "category": row[2], "master_id": row[3]} for row in rows}


def slave_names(engine: Engine, slave_ids: Sequence[int]) -> dict[int, str]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(slaves.c.id, slaves.c.name).where(slaves.c.id.in_(sorted(slave_ids)))
        )
        return {row[0]: row[1] for row in rows}
