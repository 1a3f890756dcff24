"""Path and query values shared by the routes, checked once: integers, ids, revisions, branches."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Path
from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

from buildapi.db.queries.live import BranchFilter
from buildapi.errors import BadInput, NotFound
from buildapi.parsing import INTEGER
from buildapi.web.deps import AppState

REVISION = re.compile(r"[0-9a-fA-F]{12,40}")
MAX_ID = 2**31 - 1  # the id columns are 32-bit on MySQL and PostgreSQL


def _integer_text(value: Any) -> Any:
    """Query and path text must have the one integer form before pydantic, which is laxer (it
    takes `+5`, `1_000`, ` 7 ` and `7.0`), turns it into an int."""
    if isinstance(value, str) and not INTEGER.fullmatch(value):
        raise PydanticCustomError(
            "int_parsing",
            "must be an integer in ASCII digits (no sign but -), not {text}",
            {"text": repr(value)},
        )
    return value


# An integer query or path parameter; add Query(...) or Path(...) for its bounds.
Integer = Annotated[int, BeforeValidator(_integer_text)]
Id = Annotated[Integer, Path(ge=0, le=MAX_ID)]


def checked_revision(revision: str) -> str:
    if not REVISION.fullmatch(revision):
        raise BadInput(f"revision must be 12 to 40 hexadecimal characters, not {revision!r}")
    return revision.lower()


def known_branch(state: AppState, name: str) -> BranchFilter:
    branch = state.layout.branches.get(name)
    if branch is None:
        raise NotFound(f"Branch {name} not found")
    return BranchFilter(name, branch.repo_path)


def branch_filter(state: AppState, name: str | None) -> BranchFilter | None:
    return None if name is None else known_branch(state, name)
