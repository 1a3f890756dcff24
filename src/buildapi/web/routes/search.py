"""One box for a revision or an author, across every branch: where was it pushed, by whom."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from buildapi.db.queries.search import FoundPush, pushes_by_author, pushes_by_revision
from buildapi.layout import FarmLayout
from buildapi.web.caching import cached
from buildapi.web.deps import State
from buildapi.web.negotiation import OutputFormat
from buildapi.web.responses import render

router = APIRouter(tags=["live"])

FOUND_LIMIT = 100
# Six hex characters are about the shortest revision people paste; shorter is read as a name.
REVISION = re.compile(r"[0-9a-fA-F]{6,40}")
LONGEST = 256  # longer than any revision or address the changes table holds


def search_kind(text: str) -> str:
    """`revision` for hex text a revision could start with, else `author`."""
    return "revision" if REVISION.fullmatch(text) else "author"


def branch_names(layout: FarmLayout) -> dict[str, str]:
    """The short branch name for each way changes name a branch (short name or repo path)."""
    names = {name: name for name in layout.branches}
    names.update({branch.repo_path: name for name, branch in layout.branches.items()})
    return names


def push_object(push: FoundPush, names: dict[str, str]) -> dict[str, Any]:
    short = names.get(push.repository) or names.get(push.repository.rsplit("/", 1)[-1])
    return {
        "branch": short,
        "repository": push.repository,
        "revision": push.revision,
        "author": push.author,
        "comments": push.comments,
        "when": push.when,
    }


@router.get("/search", summary="Find pushes by revision prefix or by author on every branch")
@cached(30)
def search(
    request: Request,
    fmt: OutputFormat,
    state: State,
    q: Annotated[
        str,
        Query(max_length=LONGEST, description="a revision (6+ hex) or the start of an author"),
    ] = "",
) -> Response:
    text = q.strip()
    data: dict[str, Any] = {"q": text, "kind": None, "pushes": [], "more": False}
    if text:
        kind = search_kind(text)
        find = pushes_by_revision if kind == "revision" else pushes_by_author
        with state.databases.schedulerdb.connect() as connection:
            found = find(connection, text.lower() if kind == "revision" else text, FOUND_LIMIT + 1)
        names = branch_names(state.layout)
        data.update(
            kind=kind,
            pushes=[push_object(push, names) for push in found[:FOUND_LIMIT]],
            more=len(found) > FOUND_LIMIT,
        )
    title = f"Search for {text}" if text else "Search"
    return render(request, fmt, data, template="search.html", title=title)
