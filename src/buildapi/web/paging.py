"""Paging, filter and sort parameters of the HTML job tables (day, revision, job history), and
the links that change one of them while keeping the others."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import Depends, Query
from starlette.requests import Request

from buildapi.db.queries.job_tables import SORT_KEYS, STATES, Sort, TableFilter
from buildapi.errors import NotFound
from buildapi.layout import FarmLayout
from buildapi.vocabulary import Result
from buildapi.web.params import Integer
from buildapi.web.urls import app_path, link

PER_PAGE = 200
MAX_PER_PAGE = 1000
RESULTS = {result.legacy_name: int(result) for result in Result}
# Closed sets, so that the OpenAPI description names them; "" is an untouched form field.
ResultName = Literal[("", *RESULTS)]  # type: ignore[valid-type]
StateName = Literal[("", *STATES)]  # type: ignore[valid-type]
SortKey = Literal[("", *SORT_KEYS, *(f"-{key}" for key in SORT_KEYS))]  # type: ignore[valid-type]


@dataclass(frozen=True)
class TableQuery:
    """What the reader asked of a table, checked; `offset` counts from 0."""

    page: int
    per_page: int
    sort: Sort
    builder: str | None
    platform: str | None
    result: str | None
    state: str | None
    author: str | None

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    def table_filter(self, layout: FarmLayout, branch: str) -> TableFilter:
        """The filter for SQL: a platform becomes the branch's builders of that platform."""
        return TableFilter(
            builder=self.builder,
            builders=platform_builders(layout, branch, self.platform),
            result=RESULTS[self.result] if self.result is not None else None,
            state=self.state,
            author=self.author,
        )


def platform_builders(
    layout: FarmLayout, branch: str, platform: str | None
) -> frozenset[str] | None:
    if platform is None:
        return None
    known = platforms(layout, branch)
    if platform not in known:
        raise NotFound(f"platform {platform!r} is not one of {branch}'s: {', '.join(known)}")
    builders = layout.builders_for_branch(branch).items()
    return frozenset(name for name, builder in builders if builder.properties.platform == platform)


def platforms(layout: FarmLayout, branch: str) -> list[str]:
    return sorted({b.properties.platform for b in layout.builders_for_branch(branch).values()})


def _sort(value: str) -> Sort:
    if not value:
        return Sort()
    return Sort(key=value.removeprefix("-"), descending=value.startswith("-"))


def table_query(
    page: Annotated[Integer, Query(ge=1, le=1_000_000, description="1 is the first")] = 1,
    per_page: Annotated[Integer, Query(ge=1, le=MAX_PER_PAGE)] = PER_PAGE,
    sort: Annotated[SortKey, Query(description="a column key; '-key' descending")] = "",
    builder: Annotated[str | None, Query(description="builder name contains")] = None,
    platform: Annotated[str | None, Query(description="a platform of the branch")] = None,
    result: Annotated[ResultName, Query(description="a finished build's result")] = "",
    state: Annotated[StateName, Query(description="pending, running or finished")] = "",
    author: Annotated[str | None, Query(description="an author of the push")] = None,
) -> TableQuery:
    return TableQuery(
        page=page,
        per_page=per_page,
        sort=_sort(sort),
        builder=builder.strip() or None if builder else None,
        platform=platform or None,
        result=result or None,
        state=state or None,
        author=author.strip() or None if author else None,
    )


Table = Annotated[TableQuery, Depends(table_query)]


@dataclass(frozen=True)
class Pager:
    """Links of one page of `total` rows: the same query with one parameter changed. Pages
    are numbered (`page`), or for the job history counted in rows (`offset`, legacy's)."""

    request: Request
    offset: int
    shown: int
    total: int
    per_page: int
    by_offset: bool = False

    def with_params(self, **changes: object) -> str:
        """This page's URL with `changes` (None drops a parameter); paging starts over at
        the first page unless the changes say where."""
        params = dict(self.request.query_params.items())
        params.pop("offset" if self.by_offset else "page", None)
        for key, value in changes.items():
            params.pop(key, None)
            if value is not None:
                params[key] = str(value)
        query = urlencode(params)
        return link(self.request, app_path(self.request)) + (f"?{query}" if query else "")

    def _at(self, offset: int) -> str:
        if self.by_offset:
            return self.with_params(offset=offset)
        return self.with_params(page=offset // self.per_page + 1)

    @property
    def previous(self) -> str | None:
        return self._at(max(0, self.offset - self.per_page)) if self.offset > 0 else None

    @property
    def next(self) -> str | None:
        more = self.offset + self.shown < self.total
        return self._at(self.offset + self.per_page) if more else None

    def sort_link(self, key: str) -> str:
        """Ascending first; the current ascending key's link sorts it descending."""
        current = self.request.query_params.get("sort", "")
        return self.with_params(sort=f"-{key}" if current == key else key)

    def sort_state(self, key: str) -> str | None:
        """aria-sort of a column header."""
        current = self.request.query_params.get("sort", "")
        if current == key:
            return "ascending"
        return "descending" if current == f"-{key}" else None
