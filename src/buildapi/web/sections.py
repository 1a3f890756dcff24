"""The parts of BuildAPI that pages link to: the landing page lists them, the header shows them.
Parts whose routes are not served (yet) are left out, so no link leads nowhere."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.routing import BaseRoute, Match


@dataclass(frozen=True)
class Section:
    path: str
    title: str
    description: str
    in_header: bool = True


SECTIONS = (
    Section("/self-serve", "Self-serve", "Rebuild, cancel and reprioritize builds; job status."),
    Section("/pending", "Pending", "Build requests waiting for a slave, by branch and revision."),
    Section("/running", "Running", "Builds running now."),
    Section("/recent", "Recent", "The newest builds, running ones too; per slave, finished ones."),
    Section("/pushes", "Pushes", "Pushes per author over a time window."),
    Section("/reports", "Reports", "Wait times, end-to-end times, builders, slaves and more."),
    Section(
        "/builddata/buildjson", "JSON dumps", "builds-pending, builds-running, builds-4hr.", False
    ),
    Section("/healthz", "Health", "Whether the databases, the broker and the agents work."),
    Section("/openapi.json", "OpenAPI", "Machine-readable description of every endpoint.", False),
)


def served_sections(routes: list[BaseRoute]) -> list[Section]:
    return [section for section in SECTIONS if _is_served(routes, section.path)]


def _is_served(routes: list[BaseRoute], path: str) -> bool:
    scope = {"type": "http", "method": "GET", "path": path, "root_path": ""}
    return any(route.matches(scope)[0] == Match.FULL for route in routes)
