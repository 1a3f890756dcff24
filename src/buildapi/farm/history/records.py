"""The history's in-memory objects and the statusdb rows it writes for them."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from buildapi.db.queries.bulk import (
    BulkInserter,
    StatusNames,
)
from buildapi.db.queries.status_builds import PROPERTY_SOURCES, StatusStep, naive_utc
from buildapi.farm.history.tuning import JSON, SCALARS, SHORT_LIVED_PROPERTIES, STATUS_TEXT
from buildapi.farm.properties import (
    BuildFacts,
    start_properties,
)
from buildapi.farm.trychooser import TrySelection
from buildapi.layout import Builder, Master

# -- the simulation's objects ---------------------------------------------------------------


@dataclass(eq=False, slots=True)
class Stamp:
    """A sourcestamp, what its push asked of try, and who pushed it with which comments at
    its tip (none for a periodic build's sourcestamp)."""

    id: int
    branch: str  # repo path
    revision: str | None
    selection: TrySelection | None
    pusher: str | None = None
    comments: str = ""


@dataclass(eq=False, slots=True)
class Order:
    """A buildset, kept until all its requests are complete."""

    id: int
    stamp: Stamp
    submitted_at: float
    properties: dict[str, tuple[Any, str]]
    open: int
    worst: int = 0


@dataclass(eq=False, slots=True)
class Request:
    id: int
    buildername: str
    builder: Builder
    order: Order
    expected: float = 0.0  # test requests expected from it while it waits


@dataclass(eq=False, slots=True)
class Attempt:
    """One build: a slave running one request or several merged ones."""

    master: Master
    slave: str
    requests: list[Request]
    start: float  # when its requests were claimed
    finish: float
    result: int
    facts: BuildFacts
    build_rows: list[dict[str, Any]]
    status_row: dict[str, Any]
    expected: float  # test requests it will trigger


class Ids:
    """The next free id of each table, handed out without asking the database."""

    def __init__(self, first: Mapping[str, int]) -> None:
        self._next = dict(first)

    def take(self, table: str) -> int:
        value = self._next[table]
        self._next[table] = value + 1
        return value

    def take_many(self, table: str, count: int) -> int:
        """The first of `count` consecutive ids."""
        value = self._next[table]
        self._next[table] = value + count
        return value

    def last(self, table: str) -> int:
        """The id taken last (or the highest that was there)."""
        return self._next[table] - 1


@dataclass
class Sinks:
    """Where rows go during one transaction."""

    scheduler: BulkInserter
    status: BulkInserter

    def flush(self) -> None:
        self.scheduler.flush()
        self.status.flush()

    @property
    def written(self) -> int:
        return self.scheduler.written + self.status.written


@dataclass
class Counts:
    """Rows made so far (HistoryStats' counts while the run goes on)."""

    pushes: int = 0
    buildsets: int = 0
    requests: int = 0
    builds: int = 0
    status_builds: int = 0  # idle builds included
    idle_builds: int = 0


# -- statusdb rows ----------------------------------------------------------------------------


class StatusRows:
    """statusdb ids: rows builds share (masters, builders, slaves, properties) and new ones."""

    def __init__(
        self, ids: Ids, names: StatusNames, known: dict[tuple[str, str, str], int]
    ) -> None:
        self.ids = ids
        self.names = names
        self.lasting = {
            property_key(name, json.loads(value), value): pid
            for (name, source, value), pid in known.items()
            if source == PROPERTY_SOURCES.get(name, "Build")
        }
        self.recent: dict[tuple, int] = {}
        self.older: dict[tuple, int] = {}

    def next_day(self) -> None:
        """Forget short-lived property values older than two days: memory stays bounded."""
        self.older, self.recent = self.recent, {}

    def start_build(
        self,
        out: BulkInserter,
        facts: BuildFacts,
        stamp: Stamp | None,
        start: float,
        reason: str = "scheduler",
    ) -> dict:
        """Write what is known at the start; return the builds row, completed at the end.
        Builds no scheduler asked for (idle jobs) have no `stamp`: an empty sourcestamp."""
        master_id = self._master(out, facts.master)
        source_id = self.ids.take("sourcestamps")
        out.add(
            "sourcestamps",
            {
                "id": source_id,
                "branch": clip(stamp.branch) if stamp else None,
                "revision": clip(stamp.revision) if stamp else None,
                "patch_id": None,
            },
        )
        row = {
            "id": self.ids.take("builds"),
            "buildnumber": facts.number,
            "builder_id": self._builder(out, facts.buildername, facts.builder, master_id),
            "slave_id": self._slave(out, facts.slave),
            "master_id": master_id,
            "starttime": naive_utc(start),
            "endtime": None,
            "result": None,
            "reason": reason,
            "source_id": source_id,
            "lost": False,
        }
        self.add_properties(out, row["id"], start_properties(facts))
        return row

    def add_steps(self, out: BulkInserter, build_id: int, done: Sequence[StatusStep]) -> None:
        """A finished build's steps; a step starts when the one before it ends, so each
        boundary's datetime is made once."""
        if not done:
            return
        at = naive_utc(done[0].start)
        first = self.ids.take_many("steps", len(done))
        rows = []
        for order, step in enumerate(done):
            until = naive_utc(step.end) if step.end != step.start else at
            rows.append(
                {
                    "id": first + order,
                    "name": step.name,
                    "description": step.description,
                    "build_id": build_id,
                    "order": order,
                    "starttime": at,
                    "endtime": until,
                    "status": step.status,
                }
            )
            at = until
        out.extend("steps", rows)

    def add_properties(self, out: BulkInserter, build_id: int, values: Mapping[str, Any]) -> None:
        out.extend(
            "build_properties",
            [
                {"property_id": self._property(out, name, value), "build_id": build_id}
                for name, value in sorted(values.items())
            ],
        )

    def _property(self, out: BulkInserter, name: str, value: Any) -> int:
        encoded = None
        if type(value) in SCALARS:
            key: tuple = (name, value)
        else:
            encoded = json.dumps(value)
            key = (name, JSON, encoded)
        short_lived = name in SHORT_LIVED_PROPERTIES
        cache = self.recent if short_lived else self.lasting
        found = cache.get(key)
        if found is None and short_lived:
            found = self.older.get(key)
        if found is None:
            found = self.ids.take("properties")
            out.add(
                "properties",
                {
                    "id": found,
                    "name": name,
                    "source": PROPERTY_SOURCES.get(name, "Build"),
                    "value": json.dumps(value) if encoded is None else encoded,
                },
            )
        cache[key] = found
        return found

    def _master(self, out: BulkInserter, master: Master) -> int:
        url = f"{master.http_url}/"
        if url not in self.names.masters:
            self.names.masters[url] = self.ids.take("masters")
            out.add("masters", {"id": self.names.masters[url], "url": url, "name": master.name})
        return self.names.masters[url]

    def _builder(self, out: BulkInserter, name: str, builder: Builder, master_id: int) -> int:
        key = (name, master_id)
        if key not in self.names.builders:
            self.names.builders[key] = self.ids.take("builders")
            out.add(
                "builders",
                {
                    "id": self.names.builders[key],
                    "name": name,
                    "master_id": master_id,
                    "category": builder.properties.branch,
                },
            )
        return self.names.builders[key]

    def _slave(self, out: BulkInserter, name: str) -> int:
        if name not in self.names.slaves:
            self.names.slaves[name] = self.ids.take("slaves")
            out.add("slaves", {"id": self.names.slaves[name], "name": name})
        return self.names.slaves[name]


def property_key(name: str, value: Any, encoded: str) -> tuple:
    """How the property cache knows a value: scalars as themselves (no JSON encoding on the
    way), anything else by its JSON."""
    return (name, value) if type(value) in SCALARS else (name, JSON, encoded)


def clip(text: str | None) -> str | None:
    return text[:STATUS_TEXT] if text else text
