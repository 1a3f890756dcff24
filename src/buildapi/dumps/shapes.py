"""Rows -> the legacy JSON shapes that TBPL, Treeherder and mozci parse. Key names live here."""

from __future__ import annotations

import calendar
import datetime
import functools
import json
from collections.abc import Iterable, Sequence
from typing import Any

from buildapi.db.queries.live import PendingRow, RevisionRow, RunningRow, physical_build
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
    """{"pending": {short branch: {revision: [{"id", "buildername", "submitted_at"}]}}}

    Built straight from the rows. A buildset's requests have consecutive ids, so a row mostly
    goes where the one before it went; only a new (branch, revision) looks its list up."""
    tree: dict[str, dict[str, list]] = {}
    lists: dict[tuple[str | None, str | None], list[dict[str, Any]]] = {}
    short = functools.lru_cache(maxsize=None)(lambda branch: short_branch(branch_names, branch))
    items: list[dict[str, Any]] = []
    last: tuple[str | None, str | None] | None = None
    for brid, branch, revision, buildername, submitted_at, _priority in rows:
        if last is None or revision != last[1] or branch != last[0]:
            last = (branch, revision)
            found = lists.get(last)
            if found is None:
                found = tree.setdefault(short(branch), {}).setdefault(revision or UNKNOWN, [])
                lists[last] = found
            items = found
        items.append({"id": brid, "buildername": buildername, "submitted_at": submitted_at})
    return {"pending": tree}


def running_shape(rows: Iterable[RunningRow], branch_names: Sequence[str]) -> dict[str, Any]:
    """Requests merged into one build (`physical_build`) are folded into one entry:
    `request_ids` ascending, `id` and `revision` from the newest request, everything else from
    the oldest. The rows come in request id order (as `running_rows` reads them), so a build's
    first row is its oldest."""
    folded: dict[tuple, tuple[str | None, dict[str, Any]]] = {}
    for (
        build_id,
        brid,
        branch,
        revision,
        buildername,
        submitted_at,
        claimed_at,
        claimed_by_name,
        start_time,
        number,
    ) in rows:
        key = physical_build(claimed_by_name, buildername, number, build_id)
        found = folded.get(key)
        if found is None:
            folded[key] = (
                branch,
                {
                    "id": build_id,
                    "revision": revision,
                    "request_ids": [brid],
                    "submitted_at": submitted_at,
                    "buildername": buildername,
                    "last_heartbeat": claimed_at,
                    "claimed_by_name": claimed_by_name,
                    "start_time": start_time,
                    "number": number,
                },
            )
        else:
            item = found[1]
            item["id"] = build_id
            item["revision"] = revision
            item["request_ids"].append(brid)
    tree: dict[str, dict[str, list]] = {}
    short = functools.lru_cache(maxsize=None)(lambda branch: short_branch(branch_names, branch))
    for branch, item in folded.values():
        _bucket(tree, short(branch), item["revision"], item)
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
    short = functools.lru_cache(maxsize=None)(lambda branch: short_branch(branch_names, branch))
    for row in rows:
        _bucket(tree, short(row.branch), row.revision, revision_item(row))
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
