"""Fetch layout documents from a path or an http(s) URL, refresh them, keep the last good copy."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Generic, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from buildapi.config import Settings
from buildapi.errors import ConfigError
from buildapi.layout.models import (
    Branch,
    BranchesDocument,
    Builder,
    BuildersDocument,
    Master,
    MastersDocument,
    SlavesDocument,
)

log = logging.getLogger(__name__)

Document = TypeVar("Document", bound=BaseModel)


def read_location(location: str, timeout: float) -> bytes:
    """The bytes at a path, a file:// URL or an http(s) URL."""
    if location.startswith(("http://", "https://")):
        response = httpx.get(location, timeout=timeout, follow_redirects=True)
        response.raise_for_status()
        return response.content
    return Path(location.removeprefix("file://")).read_bytes()


def example_location(name: str) -> str:
    """Path of a layout file shipped with the package."""
    return str(resources.files("buildapi") / "examples" / name)


class LayoutSource(Generic[Document]):
    """One layout document. `refresh()` replaces it only when the new copy parses and validates;
    otherwise the last good copy stays and the reason is logged."""

    def __init__(
        self,
        location: str,
        model: type[Document],
        *,
        timeout: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.location = location
        self.model = model
        self.timeout = timeout
        self.clock = clock
        self.loaded_at: float | None = None
        self.last_error: str | None = None
        self._document: Document | None = None
        self._lock = threading.Lock()

    @property
    def document(self) -> Document:
        if self._document is None:
            raise ConfigError(f"layout {self.location} was never loaded")
        return self._document

    def fetch(self) -> Document:
        """Read and validate the document, raising ConfigError with one clear line."""
        try:
            raw = read_location(self.location, self.timeout)
        except (OSError, httpx.HTTPError) as exc:
            raise ConfigError(f"cannot read layout {self.location}: {exc}") from exc
        try:
            return self.model.model_validate_json(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "document"
            raise ConfigError(f"bad layout {self.location}: {where}: {first['msg']}") from exc

    @property
    def shown_error(self) -> str | None:
        """The last refresh error as a public page may show it: a file by its name only, a
        URL without credentials or query."""
        if self.last_error is None:
            return None
        path = self.location.removeprefix("file://")
        if self.location.startswith(("http://", "https://")):
            parsed = httpx.URL(self.location)
            shown = str(parsed.copy_with(userinfo=b"", query=None, fragment=None))
        else:
            shown = Path(path).name
        return self.last_error.replace(self.location, shown).replace(path, shown)

    def refresh(self) -> bool:
        """Fetch again; True when the new copy replaced the old one."""
        try:
            document = self.fetch()
        except ConfigError as exc:
            self.last_error = exc.msg
            if self._document is None:
                raise
            log.warning("%s; keeping the copy loaded at %s", exc.msg, self.loaded_at)
            return False
        with self._lock:
            self._document = document
            self.loaded_at = self.clock()
            self.last_error = None
        return True


@dataclass
class FarmLayout:
    """Branches, masters and builders, each refreshed on its own."""

    branches_source: LayoutSource[BranchesDocument]
    masters_source: LayoutSource[MastersDocument]
    builders_source: LayoutSource[BuildersDocument]
    slaves_source: LayoutSource[SlavesDocument]
    refresh_seconds: int

    @property
    def named_sources(self) -> dict[str, LayoutSource]:
        return {
            "branches": self.branches_source,
            "masters": self.masters_source,
            "builders": self.builders_source,
            "slaves": self.slaves_source,
        }

    @property
    def sources(self) -> tuple[LayoutSource, ...]:
        return tuple(self.named_sources.values())

    def refresh(self) -> None:
        for source in self.sources:
            source.refresh()

    @property
    def branches(self) -> dict[str, Branch]:
        return self.branches_source.document.root

    @property
    def masters(self) -> list[Master]:
        return self.masters_source.document.root

    @property
    def builders(self) -> dict[str, Builder]:
        return self.builders_source.document.builders

    @property
    def slaves(self) -> dict[str, list[str]]:
        return self.slaves_source.document.root

    def branch_for_repo_path(self, repo_path: str | None) -> str | None:
        """The short name of the branch a sourcestamp `branch` value belongs to."""
        if not repo_path:
            return None
        last = repo_path.rsplit("/", 1)[-1]
        for name, branch in self.branches.items():
            if repo_path in (name, branch.repo_path) or last == name:
                return name
        return None

    def builders_for_branch(self, branch: str) -> dict[str, Builder]:
        return {
            name: builder
            for name, builder in self.builders.items()
            if builder.properties.branch == branch
        }

    def master_by_db_name(self, db_name: str) -> Master | None:
        return next((master for master in self.masters if master.db_name == db_name), None)


def load_layout(settings: Settings, clock: Callable[[], float] = time.time) -> FarmLayout:
    """Load all three documents now; a failure here is fatal (there is no last good copy yet)."""
    timeout = settings.layout_fetch_timeout_seconds

    def source(location: str, default: str, model: type[Document]) -> LayoutSource[Document]:
        return LayoutSource(
            location or example_location(default), model, timeout=timeout, clock=clock
        )

    layout = FarmLayout(
        branches_source=source(settings.branches_url, "branches.json", BranchesDocument),
        masters_source=source(settings.masters_url, "masters.json", MastersDocument),
        builders_source=source(settings.builders_url, "builders.json", BuildersDocument),
        slaves_source=source(settings.slaves_url, "slaves.json", SlavesDocument),
        refresh_seconds=settings.layout_refresh_seconds,
    )
    layout.refresh()
    return layout
