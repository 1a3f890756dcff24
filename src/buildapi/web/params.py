"""Path and query values shared by the read routes, checked once: revisions and branches."""

from __future__ import annotations

import re

from buildapi.db.queries.live import BranchFilter
from buildapi.errors import BadInput, NotFound
from buildapi.web.deps import AppState

REVISION = re.compile(r"[0-9a-fA-F]{12,40}")


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
