"""Average time per builder: run times of finished build requests, as a tree branch →
platform → build type → job type → builder, in one pass over the shared request model.

Fixed legacy quirks (docs/reports.md): `detail_level` lists the nodes *of* that level (legacy
listed the level below, so the default `builder` gave an empty list), and filters and detail
level apply to every format.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from buildapi.errors import BadInput
from buildapi.reports import classify
from buildapi.reports.requests import BuildRequest, Status
from buildapi.reports.window import Window

DETAIL_LEVELS = ("branch", "platform", "build_type", "job_type", "builder")
FILTERS = {
    "platform": (*(name for name, _ in classify.PLATFORMS), classify.OTHER_PLATFORM),
    "build_type": ("opt", "debug"),
    "job_type": ("build", "unittest", "talos", "repack"),
}


def checked_detail_level(value: str | None) -> str:
    level = value or "builder"
    if level not in DETAIL_LEVELS:
        raise BadInput(f"detail_level must be one of {', '.join(DETAIL_LEVELS)}, not {value!r}")
    return level


def checked_filter(name: str, value: str | None) -> list[str]:
    """A comma list of known values of one classification (empty: no filter)."""
    chosen = [item for item in (value or "").split(",") if item]
    unknown = [item for item in chosen if item not in FILTERS[name]]
    if unknown:
        raise BadInput(f"{name} must be among {', '.join(FILTERS[name])}, not {unknown[0]!r}")
    return chosen


@dataclass
class Node:
    """Run-time statistics of the requests under one tree node."""

    path: tuple[str, ...]
    count: int = 0
    sum: int = 0
    min: int | None = None
    max: int | None = None
    results: dict[int, int] = field(default_factory=dict)

    def add(self, request: BuildRequest) -> None:
        run = request.run_time
        self.count += 1
        self.sum += run
        self.min = run if self.min is None else min(self.min, run)
        self.max = run if self.max is None else max(self.max, run)
        self.results[request.results] = self.results.get(request.results, 0) + 1

    def to_dict(self, root_sum: int) -> dict[str, Any]:
        names = (*self.path[1:], "", "", "", "")[:4]
        success, warnings = self.results.get(0, 0), self.results.get(1, 0)
        return {
            "level": DETAIL_LEVELS[len(self.path) - 1],
            "platform": names[0],
            "build_type": names[1],
            "job_type": names[2],
            "buildername": names[3],
            "avg_run_time": self.sum // self.count if self.count else 0,
            "min_run_time": self.min or 0,
            "max_run_time": self.max or 0,
            "sum_run_time": self.sum,
            "total_build_requests": self.count,
            "ptg_run_time": f"{100.0 * self.sum / root_sum:.2f}" if root_sum else "0.00",
            "results_success": success,
            "results_warnings": warnings,
            "results_failure": self.count - success - warnings,
        }


def _path(branch: str, request: BuildRequest) -> tuple[str, ...]:
    name = request.buildername
    return (
        branch,
        classify.platform(name) or classify.OTHER_PLATFORM,
        classify.build_type(name) or "",
        classify.job_type(name) or "",
        name,
    )


def finished(request: BuildRequest) -> bool:
    """Pending and running requests have no run time yet; the report leaves them out."""
    return request.status not in (Status.PENDING, Status.RUNNING)


def builder_tree(
    requests: Iterable[BuildRequest],
    branch: str,
    window: Window,
    *,
    detail_level: str,
    filters: dict[str, list[str]],
) -> dict[str, Any]:
    """Every node of the tree (for the page) and the nodes of `detail_level` (the list)."""
    nodes: dict[tuple[str, ...], Node] = {}
    for request in requests:
        if not finished(request):
            continue
        path = _path(branch, request)
        if any(
            chosen and path[index] not in chosen
            for index, chosen in enumerate(filters.values(), start=1)
        ):
            continue
        for depth in range(1, len(path) + 1):
            prefix = path[:depth]
            if prefix not in nodes:
                nodes[prefix] = Node(prefix)
            nodes[prefix].add(request)
    root = nodes.get((branch,), Node((branch,)))
    depth = DETAIL_LEVELS.index(detail_level) + 1
    ordered = sorted(nodes.values(), key=lambda node: node.path)
    return {
        "starttime": window.starttime,
        "endtime": window.endtime,
        "branch_name": branch,
        "detail_level": detail_level,
        "sum_run_time": root.sum,
        **filters,
        "builders": [node.to_dict(root.sum) for node in ordered if len(node.path) == depth],
        "nodes": [node.to_dict(root.sum) for node in ordered],
    }


def builder_report(
    requests: Iterable[BuildRequest], buildername: str, window: Window
) -> dict[str, Any]:
    """One builder's statistics over its finished requests, and every request of the window."""
    node = Node(("", "", "", "", buildername))
    listed = []
    for request in requests:
        listed.append(request.to_dict())
        if finished(request):
            node.add(request)
    stats = node.to_dict(node.sum)
    return {
        "buildername": buildername,
        "platform": classify.platform(buildername),
        "build_type": classify.build_type(buildername),
        "job_type": classify.job_type(buildername),
        **{key: stats[key] for key in stats if key.endswith("_run_time") and key != "ptg_run_time"},
        "total_build_requests": stats["total_build_requests"],
        "results_success": stats["results_success"],
        "results_warnings": stats["results_warnings"],
        "results_failure": stats["results_failure"],
        "starttime": window.starttime,
        "endtime": window.endtime,
        "build_requests": sorted(
            listed, key=lambda item: item["when_timestamp"] or item["submitted_at"], reverse=True
        ),
    }
