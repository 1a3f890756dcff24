"""End-to-end times, one build run, and try-chooser use: reports over build runs.

All three read requests through `buildapi.reports.requests` in one streamed pass, group them by
revision and summarise each run; they differ only in scope and in what they add per run.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from buildapi.db.queries.live import BranchFilter
from buildapi.db.queries.report_requests import Scope, pending_changes, request_rows
from buildapi.errors import NotFound
from buildapi.reports.requests import (
    BranchNamer,
    BuildRun,
    build_runs,
    fold,
    pending_change_dict,
)
from buildapi.reports.window import Window


def _attach_pending(
    connection: Connection,
    scope: Scope,
    runs: dict[str, BuildRun],
    by_change_revision: dict[str, BuildRun],
) -> list[dict[str, Any]]:
    """Changes no sourcestamp carries yet mark the run of their revision incomplete."""
    seen = set().union(*(run.changeids for run in runs.values()))
    attached = []
    for change in pending_changes(connection, scope):
        if change.changeid in seen or change.revision is None:
            continue
        run = runs.get(change.revision) or by_change_revision.get(change.revision)
        if run is None:
            continue
        run.add_pending_change(change)
        attached.append({**pending_change_dict(change), "ss_revision": run.revision})
    return attached


def _totals(runs: dict[str, BuildRun], total: int) -> dict[str, Any]:
    durations = [run.duration for run in runs.values()]
    return {
        "total_build_requests": total,
        "unique_total_build_requests": sum(len(run.brids) for run in runs.values()),
        "total_build_runs": len(runs),
        "avg_duration": sum(durations) // len(durations) if durations else 0,
    }


def end_to_end(
    connection: Connection, branch: BranchFilter, window: Window, namer: BranchNamer
) -> dict[str, Any]:
    """The build runs of a branch's requests pushed or submitted in the window."""
    scope = Scope(branch, window.starttime, window.endtime)
    runs, by_change_revision, total = build_runs(fold(request_rows(connection, scope), namer))
    pending = _attach_pending(connection, scope, runs, by_change_revision)
    return {
        "starttime": window.starttime,
        "endtime": window.endtime,
        "branch_name": branch.name,
        **_totals(runs, total),
        "pending_changes": pending,
        "build_runs": {key: run.summary() for key, run in runs.items()},
    }


def build_run(
    connection: Connection, branch: BranchFilter, revision: str, namer: BranchNamer
) -> dict[str, Any]:
    """Every request of one revision (a prefix of 12 to 40 hex characters) as one run."""
    scope = Scope(branch, revision=revision)
    run = BuildRun(revision, keep_requests=True)
    for request in fold(request_rows(connection, scope), namer):
        run.add(request)
    for change in pending_changes(connection, scope):
        if change.changeid not in run.changeids:
            run.add_pending_change(change)
    if not run.total and not run.pending_changes:
        raise NotFound(f"no such revision {revision} on branch {branch.name}")
    stored = [request.revision for request in run.requests if request.revision]
    stored += [change.revision for change in run.pending_changes if change.revision]
    run.revision = min(stored, default=revision)
    requests = sorted(run.requests, key=lambda r: (r.start_time or 0, r.brid, r.bid or 0))
    return {
        **run.summary(),
        "branch_name": branch.name,
        "build_requests": [request.to_dict() for request in requests],
    }


def try_chooser(
    connection: Connection, branch: BranchFilter, window: Window, namer: BranchNamer
) -> dict[str, Any]:
    """Which authors and runs used try syntax ("try:" in a change comment)."""
    scope = Scope(branch, window.starttime, window.endtime)
    runs, _, total = build_runs(fold(request_rows(connection, scope), namer))
    used: set[str] = set()
    not_used: set[str] = set()
    for run in runs.values():
        for author, flag in run.uses_try_chooser.items():
            (used if flag else not_used).add(author)
    build_runs_out = {}
    for key, run in runs.items():
        summary = run.summary()
        del summary["pending_changes"]
        summary["uses_try_chooser"] = dict(sorted(run.uses_try_chooser.items()))
        summary["used_trychooser"] = run.used_trychooser
        build_runs_out[key] = summary
    return {
        "starttime": window.starttime,
        "endtime": window.endtime,
        "branch_name": branch.name,
        **_totals(runs, total),
        "authors_used": sorted(used),
        "authors_not_used": sorted(not_used),
        "authors_never_used": sorted(not_used - used),
        "authors_both": sorted(used & not_used),
        "build_runs_used": sum(run.used_trychooser for run in runs.values()),
        "build_runs": build_runs_out,
    }
