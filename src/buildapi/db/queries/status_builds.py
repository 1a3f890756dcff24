"""The status database side of a build: masters, builders, slaves, builds and properties.
Datetimes are stored as naive UTC; property values as JSON text, deduplicated."""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from cachetools import LRUCache
from sqlalchemy import Connection, Table, func, insert, select, update

from buildapi.db.schema.status import (
    build_properties,
    builders,
    builds,
    masters,
    properties,
    schedulerdb_requests,
    slaves,
    sourcestamps,
    steps,
)

# Where Buildbot says a property came from; anything else is set by the build itself.
# Property ids a writer remembers; values shared by builds (branch, platform) stay in it.
PROPERTY_IDS_KEPT = 20_000
PROPERTY_SOURCES = {
    "slavename": "BuildSlave",
    "basedir": "BuildSlave",
    "buildername": "Builder",
    "buildnumber": "Build",
    "branch": "Scheduler",
    "revision": "Scheduler",
    "repository": "Scheduler",
    "project": "Scheduler",
    "scheduler": "Scheduler",
    "buildid": "Scheduler",
    "builduid": "Scheduler",
}


_EPOCH = datetime.datetime(1970, 1, 1)


def naive_utc(epoch: float) -> datetime.datetime:
    """Whole seconds, as the status plugin wrote them (MySQL DATETIME keeps no fraction).
    Added to the naive epoch: a third of the cost of an aware datetime made naive, for the
    history's several datetimes per build."""
    return _EPOCH + datetime.timedelta(seconds=int(epoch))


@dataclass(frozen=True)
class StatusBuildStart:
    buildername: str
    buildnumber: int
    category: str
    master_url: str
    master_name: str
    slave: str
    starttime: float
    reason: str
    branch: str | None
    revision: str | None
    properties: Mapping[str, Any]
    scheduler_links: tuple[tuple[int, int], ...] = ()  # (request id, schedulerdb build id)


class StatusStep(NamedTuple):
    """One step of a build as statusdb keeps it, times in whole epoch seconds."""

    name: str
    description: str | None
    start: int
    end: int
    status: int


class StatusWriter:
    """Writes builds into statusdb, remembering the ids of rows that are shared between builds.

    Properties are deduplicated within this writer's memory only: most values (request ids,
    log URLs, hashes) are new with every build, so looking each one up first would double the
    work, and a duplicate property row is harmless to every reader. Only the most recently used
    property ids are kept, so a farm that runs for weeks does not grow without end."""

    def __init__(self) -> None:
        self._ids: dict[tuple, int] = {}  # masters, builders, slaves: few, kept for good
        self._property_ids: LRUCache[tuple, int] = LRUCache(maxsize=PROPERTY_IDS_KEPT)

    def start_build(self, connection: Connection, start: StatusBuildStart) -> int:
        master_id = self._row_id(connection, masters, url=start.master_url, name=start.master_name)
        builder_id = self._row_id(
            connection,
            builders,
            name=start.buildername,
            master_id=master_id,
            insert_also={"category": start.category},
        )
        slave_id = self._row_id(connection, slaves, name=start.slave)
        source_id = connection.execute(
            insert(sourcestamps).values(branch=_clip(start.branch), revision=_clip(start.revision))
        ).inserted_primary_key[0]
        build_id = int(
            connection.execute(
                insert(builds).values(
                    buildnumber=start.buildnumber,
                    builder_id=builder_id,
                    slave_id=slave_id,
                    master_id=master_id,
                    starttime=naive_utc(start.starttime),
                    reason=start.reason[:500],
                    source_id=source_id,
                    lost=False,
                )
            ).inserted_primary_key[0]
        )
        self.add_properties(connection, build_id, start.properties)
        if start.scheduler_links:
            connection.execute(
                insert(schedulerdb_requests),
                [
                    {
                        "status_build_id": build_id,
                        "scheduler_request_id": brid,
                        "scheduler_build_id": scheduler_build_id,
                    }
                    for brid, scheduler_build_id in start.scheduler_links
                ],
            )
        return build_id

    def finish_build(
        self,
        connection: Connection,
        build_id: int,
        endtime: float,
        result: int,
        extra: Mapping[str, Any],
    ) -> None:
        connection.execute(
            update(builds)
            .where(builds.c.id == build_id)
            .values(endtime=naive_utc(endtime), result=result)
        )
        self.add_properties(connection, build_id, extra)

    def add_steps(self, connection: Connection, build_id: int, done: Sequence[StatusStep]) -> None:
        """A finished build's steps, in their order, in one statement."""
        if done:
            connection.execute(
                insert(steps),
                [
                    {
                        "name": step.name,
                        "description": step.description,
                        "build_id": build_id,
                        "order": order,
                        "starttime": naive_utc(step.start),
                        "endtime": naive_utc(step.end),
                        "status": step.status,
                    }
                    for order, step in enumerate(done)
                ],
            )

    def add_properties(
        self, connection: Connection, build_id: int, values: Mapping[str, Any]
    ) -> None:
        rows = [
            {"build_id": build_id, "property_id": self.property_id(connection, name, value)}
            for name, value in sorted(values.items())
        ]
        if rows:
            connection.execute(insert(build_properties), rows)

    def property_id(self, connection: Connection, name: str, value: Any) -> int:
        source = PROPERTY_SOURCES.get(name, "Build")
        return self._row_id(
            connection, properties, name=name, source=source, value=json.dumps(value)
        )

    def forget(self) -> None:
        """Drop remembered ids, e.g. after a rolled-back transaction."""
        self._ids.clear()
        self._property_ids.clear()

    def _row_id(
        self,
        connection: Connection,
        table: Table,
        insert_also: Mapping[str, Any] | None = None,
        **values: Any,
    ) -> int:
        """The id of the row with these values, inserting it (plus `insert_also`) if missing."""
        key = (table.name, *sorted(values.items()))
        remembered = self._property_ids if table is properties else self._ids
        cached = remembered.get(key)
        if cached is not None:
            return cached
        found = None
        if table is not properties:
            found = connection.execute(
                select(table.c.id).where(*(table.c[n] == v for n, v in values.items()))
            ).scalar()
        if found is None:
            row = {**values, **(insert_also or {})}
            found = connection.execute(insert(table).values(**row)).inserted_primary_key[0]
        remembered[key] = int(found)
        return int(found)


def last_buildnumber(connection: Connection, buildername: str, master_name: str) -> int:
    """The highest build number this master has used for this builder (-1 when none). By the
    master's name, not its URL: a master restarted on another port keeps counting, as a real
    one does from its builder's status directory."""
    return int(
        connection.execute(
            select(func.coalesce(func.max(builds.c.buildnumber), -1))
            .join(builders, builders.c.id == builds.c.builder_id)
            .join(masters, masters.c.id == builds.c.master_id)
            .where(builders.c.name == buildername, masters.c.name == master_name)
        ).scalar()
    )


def _clip(text: str | None) -> str | None:
    """statusdb keeps only 50 characters of branch and revision."""
    return text[:50] if text else text


@dataclass(frozen=True)
class StatusBuild:
    id: int
    slave: str
    starttime: datetime.datetime | None
    endtime: datetime.datetime | None
    result: int | None


def find_build(
    connection: Connection, master_name: str, buildername: str, number: int
) -> StatusBuild | None:
    """The newest build with this number of this builder on this master (by name, so the
    builds it ran before a restart on another port are still its own)."""
    row = connection.execute(
        select(builds.c.id, slaves.c.name, builds.c.starttime, builds.c.endtime, builds.c.result)
        .join(builders, builders.c.id == builds.c.builder_id)
        .join(masters, masters.c.id == builds.c.master_id)
        .join(slaves, slaves.c.id == builds.c.slave_id)
        .where(
            builders.c.name == buildername,
            masters.c.name == master_name,
            builds.c.buildnumber == number,
        )
        .order_by(builds.c.id.desc())
        .limit(1)
    ).first()
    return StatusBuild(*row) if row else None


def close_unfinished_builds(connection: Connection, now: float, result: int) -> int:
    """Mark builds that never finished (their master went away) as lost."""
    return connection.execute(
        update(builds)
        .where(builds.c.endtime.is_(None))
        .values(endtime=naive_utc(now), result=result, lost=True)
    ).rowcount
