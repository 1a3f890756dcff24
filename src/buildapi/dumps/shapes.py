"""Rows -> the legacy JSON shapes that TBPL, Treeherder and mozci parse. Key names live here."""

from __future__ import annotations

import calendar
import datetime
import functools
import json
from collections.abc import Iterable, Sequence
from typing import Any

from buildapi.db.queries.live import PendingRow, RevisionRow, RunningRow
from buildapi.db.queries.recent import RecentBuild

UNKNOWN = "Unknown"


def short_branch(branch_names: Sequence[str], sourcestamp_branch: str | None) -> str:
    """The branches key a sourcestamp belongs to: the longest key that starts the last path
    segment (`integration/mozilla-inbound` -> `mozilla-inbound`), else "Unknown"."""
    if not sourcestamp_branch:
        return UNKNOWN
    last = sourcestamp_branch.rsplit("/", 1)[-1]
    matches = [name for name in branch_names if last.startswith(name)]
    return max(matches, key=len) if matches else UNKNOWN


def _bucket(
    tree: dict[str, dict[str, list]], branch: str, revision: str | None, item: dict[str, Any]
) -> None:
    tree.setdefault(branch, {}).setdefault(revision or UNKNOWN, []).append(item)


def pending_shape(rows: Iterable[PendingRow], branch_names: Sequence[str]) -> dict[str, Any]:
    """{"pending": {short branch: {revision: [{"id", "buildername", "submitted_at"}]}}}"""
    tree: dict[str, dict[str, list]] = {}
    short = functools.lru_cache(maxsize=None)(lambda branch: short_branch(branch_names, branch))
    for row in rows:
        item = {"id": row.id, "buildername": row.buildername, "submitted_at": row.submitted_at}
        _bucket(tree, short(row.branch), row.revision, item)
    return {"pending": tree}


def running_shape(rows: Iterable[RunningRow], branch_names: Sequence[str]) -> dict[str, Any]:
    """Requests merged into one build are folded into one entry: `request_ids` ascending, `id`
    and `revision` from the newest request, `submitted_at` from the oldest."""
    builds: dict[tuple, list[RunningRow]] = {}
    for row in rows:
        key = (row.claimed_by_name, row.buildername, row.start_time, row.number)
        builds.setdefault(key, []).append(row)
    tree: dict[str, dict[str, list]] = {}
    for group in builds.values():
        group.sort(key=lambda row: row.brid)
        first, newest = group[0], group[-1]
        item = {
            "id": newest.build_id,
            "revision": newest.revision,
            "request_ids": [row.brid for row in group],
            "submitted_at": first.submitted_at,
            "buildername": first.buildername,
            "last_heartbeat": first.last_heartbeat,
            "claimed_by_name": first.claimed_by_name,
            "start_time": first.start_time,
            "number": first.number,
        }
        _bucket(tree, short_branch(branch_names, first.branch), newest.revision, item)
    return {"running": tree}


def revision_item(row: RevisionRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "buildsetid": row.buildsetid,
        "buildername": row.buildername,
        "submitted_at": row.submitted_at,
        "claimed_at": row.claimed_at,
        "claimed_by_name": row.claimed_by_name,
        "start_time": row.start_time,
        "finish_time": row.finish_time,
        "number": row.number,
        "results": row.results,
    }


def revision_shape(rows: Iterable[RevisionRow], branch_names: Sequence[str]) -> dict[str, Any]:
    """One item per build, or per request that has no build yet."""
    tree: dict[str, dict[str, list]] = {}
    for row in rows:
        _bucket(tree, short_branch(branch_names, row.branch), row.revision, revision_item(row))
    return tree


def recent_item(build: RecentBuild) -> dict[str, Any]:
    return {
        "id": build.id,
        "buildname": build.buildname,
        "buildnumber": build.buildnumber,
        "starttime": epoch(build.starttime),
        "endtime": epoch(build.endtime),
        "result": build.result,
        "slavename": build.slavename,
        "master": build.master,
        "buildername": json.loads(build.buildername_json) if build.buildername_json else "",
    }


def epoch(moment: datetime.datetime | None) -> int | None:
    """statusdb datetimes are naive UTC."""
    return calendar.timegm(moment.timetuple()) if moment else None
