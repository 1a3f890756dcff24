"""Scheduler database times as whole epoch seconds, the way MySQL stores them.

A Buildbot 0.8 master writes `time.time()` floats into the INTEGER time columns. MySQL and
PostgreSQL round them on insert; SQLite keeps the float (as REAL). Reads select
`whole_seconds(column)`, so every engine serves the integer legacy clients saw from MySQL.
Filters and sorts stay on the stored column, where its index works.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class whole_seconds(FunctionElement[int]):
    """A time column (or an aggregate of one) rounded half away from zero to an integer."""

    type = Integer()
    inherit_cache = True


@compiles(whole_seconds)
def _stored_as_integer(element: whole_seconds, compiler: Any, **kw: Any) -> str:
    """Server engines rounded on insert: their INTEGER columns hold no fraction."""
    return str(compiler.process(element.clauses, **kw))


@compiles(whole_seconds, "sqlite")
def _round_sqlite(element: whole_seconds, compiler: Any, **kw: Any) -> str:
    """SQLite's ROUND goes half away from zero, as MySQL's INTEGER insert does."""
    return f"CAST(ROUND({compiler.process(element.clauses, **kw)}) AS INTEGER)"


def round_seconds(value: float) -> int:
    """The same rounding for a time that reaches us as a number, not a column."""
    whole = int(abs(value) + 0.5)
    return whole if value >= 0 else -whole
