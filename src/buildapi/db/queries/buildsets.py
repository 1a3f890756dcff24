"""Sourcestamps, buildsets, their properties and the build requests they order."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from buildapi.db.schema.scheduler import (
    buildrequests,
    buildset_properties,
    buildsets,
    sourcestamp_changes,
    sourcestamps,
)
from buildapi.vocabulary import Result

# property name -> (value, source), as Buildbot keeps them
Properties = Mapping[str, tuple[Any, str]]


@dataclass(frozen=True)
class NewBuildset:
    reason: str
    submitted_at: float
    builders: Sequence[str]
    properties: Properties
    sourcestampid: int
    priority: int = 0
    external_idstring: str | None = None


@dataclass(frozen=True)
class Sourcestamp:
    id: int
    branch: str | None
    revision: str | None


def insert_sourcestamp(
    connection: Connection, branch: str, revision: str | None, changeids: Sequence[int] = ()
) -> int:
    ssid = connection.execute(
        insert(sourcestamps).values(
            branch=branch, revision=revision, patchid=None, repository="", project=""
        )
    ).inserted_primary_key[0]
    if changeids:
        connection.execute(
            insert(sourcestamp_changes),
            [{"sourcestampid": ssid, "changeid": changeid} for changeid in changeids],
        )
    return int(ssid)


def get_sourcestamp(connection: Connection, ssid: int) -> Sourcestamp | None:
    row = connection.execute(
        select(sourcestamps.c.id, sourcestamps.c.branch, sourcestamps.c.revision).where(
            sourcestamps.c.id == ssid
        )
    ).first()
    return Sourcestamp(*row) if row else None


def insert_buildset(connection: Connection, buildset: NewBuildset) -> tuple[int, list[int]]:
    """Write the buildset, its properties and one pending request per builder, requests last
    (a reader that sees a request also sees its buildset)."""
    bsid = connection.execute(
        insert(buildsets).values(
            external_idstring=buildset.external_idstring,
            reason=buildset.reason,
            sourcestampid=buildset.sourcestampid,
            submitted_at=buildset.submitted_at,
            complete=0,
        )
    ).inserted_primary_key[0]
    if buildset.properties:
        connection.execute(
            insert(buildset_properties),
            [
                {"buildsetid": bsid, "property_name": name, "property_value": encode(value)}
                for name, value in buildset.properties.items()
            ],
        )
    brids = [
        int(
            connection.execute(
                insert(buildrequests).values(
                    buildsetid=bsid,
                    buildername=name,
                    priority=buildset.priority,
                    claimed_at=0,
                    claimed_by_name=None,
                    claimed_by_incarnation=None,
                    complete=0,
                    submitted_at=buildset.submitted_at,
                )
            ).inserted_primary_key[0]
        )
        for name in buildset.builders
    ]
    return int(bsid), brids


def encode(value: tuple[Any, str]) -> str:
    """A property as Buildbot stores it: JSON of [value, source]."""
    return json.dumps([value[0], value[1]])


def buildset_properties_of(connection: Connection, bsid: int) -> dict[str, tuple[Any, str]]:
    rows = connection.execute(
        select(buildset_properties.c.property_name, buildset_properties.c.property_value).where(
            buildset_properties.c.buildsetid == bsid
        )
    )
    decoded: dict[str, tuple[Any, str]] = {}
    for name, raw in rows:
        value, source = json.loads(raw)
        decoded[name] = (value, source)
    return decoded


def complete_buildsets(connection: Connection, bsids: Sequence[int], now: float) -> list[int]:
    """Complete each buildset whose requests are all complete (one without requests too);
    return the ones completed."""
    done: list[int] = []
    for bsid in sorted(set(bsids)):
        open_requests, worst = connection.execute(
            select(func.sum(1 - buildrequests.c.complete), func.max(buildrequests.c.results)).where(
                buildrequests.c.buildsetid == bsid
            )
        ).one()
        if not open_requests:  # 0, or NULL when the buildset has no requests
            changed = connection.execute(
                update(buildsets)
                .where(buildsets.c.id == bsid, buildsets.c.complete == 0)
                .values(complete=1, complete_at=now, results=buildset_results(worst))
            ).rowcount
            if changed:
                done.append(bsid)
    return done


def buildset_results(worst: int | None) -> int:
    """A complete buildset's results as Buildbot 0.8 gives them, from its requests' highest
    result (None: no requests): SUCCESS when all ended SUCCESS or WARNINGS, else FAILURE.
    Never WARNINGS; every result code above WARNINGS is a bad one (CANCELLED too)."""
    return Result.SUCCESS if worst is None or worst <= Result.WARNINGS else Result.FAILURE
