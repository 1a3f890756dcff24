"""Bulk writes for generated history: the caller assigns ids (from `next_ids`), so rows go in
with one executemany per batch and no round trip per row."""

from __future__ import annotations

import operator
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, MetaData, Table, func, insert, select, text

from buildapi.db.queries.schedulers import load_scheduler, save_scheduler_state
from buildapi.db.schema.status import builders, builds, masters, properties, slaves

BATCH_ROWS = 5000


def next_ids(connection: Connection, metadata: MetaData) -> dict[str, int]:
    """Table name -> the first free id (max + 1) of every table with an integer key."""
    found: dict[str, int] = {}
    for name, table in metadata.tables.items():
        keys = list(table.primary_key.columns)
        if len(keys) == 1:
            top = connection.execute(select(func.max(keys[0]))).scalar()
            found[name] = int(top or 0) + 1
    return found


def last_buildnumbers(connection: Connection) -> dict[tuple[str, str], int]:
    """(master name, builder name) -> the highest build number the statusdb holds; by name,
    as `status_builds.last_buildnumber`, so numbers go on across a master's port changes."""
    rows = connection.execute(
        select(masters.c.name, builders.c.name, func.max(builds.c.buildnumber))
        .join(builders, builders.c.id == builds.c.builder_id)
        .join(masters, masters.c.id == builds.c.master_id)
        .group_by(masters.c.name, builders.c.name)
    )
    return {(master, name): int(number) for master, name, number in rows}


@dataclass(frozen=True)
class StatusNames:
    """Ids of the statusdb rows that builds share: masters, builders and slaves."""

    masters: dict[str, int]  # url -> id
    builders: dict[tuple[str, int], int]  # (name, master id) -> id
    slaves: dict[str, int]  # name -> id


def status_names(connection: Connection) -> StatusNames:
    slave_rows = connection.execute(
        select(slaves.c.name, func.min(slaves.c.id)).group_by(slaves.c.name)
    )
    return StatusNames(
        masters={
            url: int(mid) for url, mid in connection.execute(select(masters.c.url, masters.c.id))
        },
        builders={
            (name, master_id): builder_id
            for builder_id, name, master_id in connection.execute(
                select(builders.c.id, builders.c.name, builders.c.master_id)
            )
        },
        slaves={name: int(sid) for name, sid in slave_rows},
    )


def known_properties(
    connection: Connection, excluding: Collection[str]
) -> dict[tuple[str, str, str], int]:
    """(name, source, JSON value) -> id of the existing properties, except those named in
    `excluding` (names with a value per build or push: too many to load)."""
    rows = connection.execute(
        select(
            properties.c.name, properties.c.source, properties.c.value, func.min(properties.c.id)
        )
        .where(properties.c.name.not_in(sorted(excluding)))
        .group_by(properties.c.name, properties.c.source, properties.c.value)
    )
    return {(name, source, value): int(pid) for name, source, value, pid in rows}


class BulkInserter:
    """Buffers rows per table and inserts each full batch with one DBAPI executemany: a
    statement compiled once per table, values through the column types' bind processors
    (SQLite datetimes, booleans), none of SQLAlchemy's per-row statement work. Every row
    must give a value for every column."""

    def __init__(
        self, connection: Connection, metadata: MetaData, batch_rows: int = BATCH_ROWS
    ) -> None:
        self.connection = connection
        self.metadata = metadata
        self.batch_rows = batch_rows
        self.written = 0
        self._buffers: dict[str, list[Mapping[str, Any]]] = {}
        self._statements: dict[str, _Statement] = {}

    def add(self, table: str, row: Mapping[str, Any]) -> None:
        buffer = self._buffers.setdefault(table, [])
        buffer.append(row)
        if len(buffer) >= self.batch_rows:
            self._flush_table(table)

    def extend(self, table: str, rows: Iterable[Mapping[str, Any]]) -> None:
        buffer = self._buffers.setdefault(table, [])
        buffer.extend(rows)
        if len(buffer) >= self.batch_rows:
            self._flush_table(table)

    def flush(self) -> None:
        for table in sorted(self._buffers):
            self._flush_table(table)

    def _flush_table(self, table: str) -> None:
        rows = self._buffers.pop(table, [])
        if not rows:
            return
        statement = self._statements.get(table)
        if statement is None:
            statement = _Statement(self.connection, self.metadata.tables[table])
            self._statements[table] = statement
        self.connection.exec_driver_sql(statement.sql, statement.parameters(rows))
        self.written += len(rows)


class _Statement:
    """An INSERT of every column of a table, compiled for the connection's dialect."""

    def __init__(self, connection: Connection, table: Table) -> None:
        dialect = connection.dialect
        compiled = insert(table).compile(dialect=dialect)
        self.sql = str(compiled)
        processors = {
            column.name: column.type.dialect_impl(dialect).bind_processor(dialect)
            for column in table.columns
        }
        self.processors = {name: process for name, process in processors.items() if process}
        # Positional drivers (SQLite, PyMySQL) take tuples in the statement's order; others dicts.
        self.values: Callable[[Mapping[str, Any]], tuple] | None = None
        if compiled.positional:
            names = list(compiled.positiontup or [])
            pick = operator.itemgetter(*names)
            picked = pick if len(names) > 1 else lambda row: (pick(row),)
            positions = [
                (i, self.processors[n]) for i, n in enumerate(names) if n in self.processors
            ]
            self.values = _processing(picked, positions) if positions else picked

    def parameters(self, rows: list[Mapping[str, Any]]) -> list[Any]:
        if self.values is not None:
            return list(map(self.values, rows))
        # Named parameters take the dicts.
        return [self._processed(row) for row in rows] if self.processors else rows

    def _processed(self, row: Mapping[str, Any]) -> dict[str, Any]:
        values = dict(row)
        for name, process in self.processors.items():
            value = values[name]
            if value is not None:
                values[name] = process(value)
        return values


def _processing(
    picked: Callable[[Mapping[str, Any]], tuple], positions: list[tuple[int, Callable]]
) -> Callable[[Mapping[str, Any]], tuple]:
    """Pick a row's values, then run the bind processors on them by position: no copy of
    the row's dict."""

    def values(row: Mapping[str, Any]) -> tuple:
        found = list(picked(row))
        for index, process in positions:
            value = found[index]
            if value is not None:
                found[index] = process(value)
        return tuple(found)

    return values


def sync_sequences(connection: Connection, metadata: MetaData) -> None:
    """PostgreSQL sequences do not move when ids are given explicitly; move them past the
    highest id so later plain inserts (the live farm's) do not collide. Other engines
    follow the ids by themselves."""
    if connection.dialect.name != "postgresql":
        return
    for name, table in sorted(metadata.tables.items()):
        keys = list(table.primary_key.columns)
        if len(keys) != 1 or keys[0].autoincrement not in (True, "auto"):
            continue
        column = keys[0].name
        connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{name}', '{column}'), "
                f'COALESCE(MAX("{column}"), 1), MAX("{column}") IS NOT NULL) FROM "{name}"'
            )
        )


def raise_last_processed(
    connection: Connection, scheduler: str, class_name: str, changeid: int
) -> None:
    """Record that a scheduler has seen every change up to `changeid`, so a live scheduler
    does not order builds again for changes written as history."""
    schedulerid, state = load_scheduler(connection, scheduler, class_name)
    state["last_processed"] = max(int(state.get("last_processed", 0)), changeid)
    save_scheduler_state(connection, schedulerid, state)
