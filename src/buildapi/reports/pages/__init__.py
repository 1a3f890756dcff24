"""Each report's presentation: its CSV table and what its HTML page shows (charts first).

A report's page module pairs a query (the checked parameters) with two functions: `table`,
the CSV columns and rows, and `page`, the template, title and context. The web layer parses
the query, loads the data and renders; it holds no per-report layout of its own."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

Q = TypeVar("Q")
Table = tuple[Sequence[str], Iterable[Sequence[Any]]]


@dataclass(frozen=True)
class Site:
    """What every page knows besides its data: the time zone and the layout's branch order
    (which also fixes each branch's colour)."""

    zone: ZoneInfo
    branches: tuple[str, ...]


@dataclass(frozen=True)
class Page:
    template: str
    title: str
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ReportPage(Generic[Q]):
    """A report's CSV table and page, from its data and query."""

    table: Callable[[Any, Q], Table]
    page: Callable[[Any, Q, Site], Page]
