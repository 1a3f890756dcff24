"""Self-serve read shapes: request objects, build objects (merged requests folded) and job
objects, with the legacy key names clients parse."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from buildapi.db.queries.job_tables import TablePage
from buildapi.db.queries.jobrequests import JobRow
from buildapi.db.queries.live import physical_build
from buildapi.db.queries.selfserve import BuildRow, RequestRow
from buildapi.vocabulary import Result


def request_object(row: RequestRow) -> dict[str, Any]:
    return {
        "request_id": row.id,
        "buildername": row.buildername,
        "branch": row.branch,
        "revision": row.revision,
        "submittime": row.submitted_at,
        "complete": row.complete,
        "complete_at": row.complete_at,
        "priority": row.priority,
        "claimed_at": row.claimed_at,
        "reason": row.reason,
    }


def build_objects(rows: Iterable[BuildRow]) -> list[dict[str, Any]]:
    """One object per physical build (`physical_build`), newest first: `build_id` is the
    highest builds.id among the rows of its merged requests."""
    return [build for build, _retried in _folded(rows)]


def own_results(rows: Iterable[BuildRow]) -> dict[int, int]:
    """build_id -> the build's own result where it is not its requests' (the JSON `status`):
    RETRY for a build whose requests ran again. Pages show this one."""
    return {build["build_id"]: Result.RETRY for build, retried in _folded(rows) if retried}


def _folded(rows: Iterable[BuildRow]) -> list[tuple[dict[str, Any], bool]]:
    folded: dict[tuple, tuple[dict[str, Any], bool]] = {}
    for row in rows:
        request = row.request
        key = physical_build(row.master, request.buildername, row.number, row.build_id)
        build, retried = folded.get(key, (None, False))
        if build is None:
            build = {
                "build_id": row.build_id,
                "buildnumber": row.number,
                "buildername": request.buildername,
                "branch": request.branch,
                "revision": request.revision,
                "starttime": row.start_time,
                "endtime": row.finish_time,
                "status": request.results if row.finish_time is not None else None,
                "claimed_by_name": request.claimed_by_name,
                "requests": [],
            }
        build["requests"].append(request_object(request))
        folded[key] = (build, retried or row.retried)
    return list(folded.values())


def job_list(builds: Iterable[BuildRow], pending: Iterable[RequestRow]) -> list[dict[str, Any]]:
    """Builds first, then pending requests, in one flat list (day and revision views)."""
    return build_objects(builds) + [request_object(row) for row in pending]


def with_properties(item: dict[str, Any], properties: Mapping[str, Any]) -> dict[str, Any]:
    return {**item, "properties": dict(properties)}


def completeness(items: list[dict[str, Any]], now: float, stable_delay: int) -> dict[str, Any]:
    """Done when every item ended at least `stable_delay` seconds ago; passed when, in
    addition, every result is SUCCESS or RETRY (a retry ran again elsewhere)."""
    unfinished = [
        item
        for item in items
        if item.get("endtime") is None or now - item["endtime"] < stable_delay
    ]
    complete = bool(items) and not unfinished
    passed = complete and all(
        item.get("status") in (Result.SUCCESS, Result.RETRY) for item in items
    )
    return {"stableDelay": stable_delay, "job_complete": complete, "job_passed": passed}


def job_object(row: JobRow, show_who: bool = True) -> dict[str, Any]:
    """The legacy job keys plus `id`, which legacy left out; `who` is None when hidden."""
    return {
        "id": row.id,
        "action": row.action,
        "who": row.who if show_who else None,
        "when": row.when,
        "completed_at": row.completed_at,
        "complete_data": row.complete_data,
        "what": row.what,
    }


def table_rows(page: TablePage) -> dict[str, list[dict[str, Any]]]:
    """A page of the HTML tables: one build object per `builds` row (not folded: a page shows
    rows, and a merged build's rows may fall on two pages), keyed by
    table: pending, running and (finished) builds."""
    return {
        "pending": [request_object(row) for row in page.pending],
        "running": [build for row in page.running for build in build_objects([row])],
        "builds": [build for row in page.finished for build in build_objects([row])],
    }


def cancellable(items: list[dict[str, Any]]) -> dict[str, int]:
    """How many pending requests and running builds a cancel of these items stops."""
    running = [item for item in items if "starttime" in item and item["endtime"] is None]
    return {
        "requests": sum("starttime" not in item for item in items),
        "builds": len(running),
    }
