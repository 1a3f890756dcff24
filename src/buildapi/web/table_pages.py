"""The job tables of the day and revision pages: one page of rows, its counts and links."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection
from starlette.requests import Request

from buildapi.db.queries.job_tables import (
    STATES,
    Scope,
    TableFilter,
    authors_of_buildsets,
    page_rows,
)
from buildapi.layout import FarmLayout
from buildapi.selfserve import shapes
from buildapi.web.paging import RESULTS, Pager, TableQuery, platforms


def table_context(
    request: Request,
    connection: Connection,
    layout: FarmLayout,
    branch: str,
    scope: Scope,
    table: TableQuery,
    where: TableFilter,
) -> dict[str, Any]:
    """What _job_tables.html shows: the page's rows split into the three tables, the
    authors of each row's push by request id, the counts and the paging links."""
    page = page_rows(connection, scope, where, table.sort, table.offset, table.per_page)
    built = page.running + page.finished
    requests = page.pending + [row.request for row in built]
    authors = authors_of_buildsets(connection, {row.buildsetid for row in requests})
    return {
        "tables": shapes.table_rows(page),
        "own_results": shapes.own_results(built),
        "authors": {row.id: authors.get(row.buildsetid, []) for row in requests},
        "counts": page.counts,
        "pager": Pager(request, page.offset, page.shown, page.total, table.per_page),
        "table": table,
        "choices": {
            "platform": platforms(layout, branch),
            "result": list(RESULTS),
            "state": STATES,
        },
    }
