"""The per-push grid's shape: each push with its jobs, a job being one physical build (its
merged requests folded into it), an attempt that ended in RETRY, or a request no build has
taken; each job with its platform, state and result, and the page's filters applied."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from buildapi.db.queries.actions import build_is_over
from buildapi.db.queries.grid import GridRow, PushRow
from buildapi.db.queries.live import physical_build
from buildapi.errors import BadInput
from buildapi.layout.models import Builder
from buildapi.vocabulary import Result

STATES = ("pending", "running", "finished")
OTHER_PLATFORM = "other"
# How a cell names its builder: the words after the branch, shortened, first match wins.
LABEL_ABBREVIATIONS = (
    ("debug test ", "d "),
    ("opt test ", "o "),
    ("leak test build", "debug build"),
    ("talos ", "T "),
)


@dataclass(frozen=True)
class GridFilter:
    """Which jobs the page shows (builder, platform, result, state) and whose pushes (author)."""

    builder: str | None = None
    platform: str | None = None
    result: int | None = None
    state: str | None = None
    author: str | None = None

    def keeps(self, job: Mapping[str, Any]) -> bool:
        return (
            (not self.builder or self.builder.lower() in job["buildername"].lower())
            and (not self.platform or self.platform == job["platform"])
            and (self.result is None or self.result == job["result"])
            and (not self.state or self.state == job["state"])
        )


def parse_result(text: str | None) -> int | None:
    """A result filter: a code 0-6 or its name (`failure`), any case; 400 otherwise."""
    if not text:
        return None
    for result in Result:
        if text.lower() in (str(result.value), result.legacy_name):
            return result.value
    names = ", ".join(result.legacy_name for result in Result)
    raise BadInput(f"result must be a code 0-6 or one of {names}, not {text!r}")


def parse_state(text: str | None) -> str | None:
    if not text:
        return None
    if text not in STATES:
        raise BadInput(f"state must be one of {', '.join(STATES)}, not {text!r}")
    return text


def platform_of(builders: Mapping[str, Builder], buildername: str, branch: str) -> str:
    """The builder's layout platform; for a builder the layout does not list, the words of
    its name before the branch's name (`Linux x86-64` of `Linux x86-64 try build`), else
    `other`."""
    known = builders.get(buildername)
    if known is not None:
        return known.properties.platform
    before, found, _after = buildername.partition(f" {branch} ")
    return before if found and before else OTHER_PLATFORM


def cell_label(buildername: str, branch: str) -> str:
    """What a cell shows of its builder: the words after the branch's name, shortened."""
    _before, found, after = buildername.partition(f" {branch} ")
    label = after if found else buildername
    for long, short in LABEL_ABBREVIATIONS:
        if label.startswith(long):
            return short + label[len(long) :]
    return label


def job_state(row: GridRow) -> tuple[str, int | None]:
    """State and result of one row: a build ends with its own RETRY or its request's
    result; a request with no build is pending, taken (running) or over (cancelled)."""
    request = row.request
    if row.build_id is None:
        if request.complete:
            return "finished", request.results
        return ("running" if request.claimed_at else "pending"), None
    if row.retried:
        return "finished", int(Result.RETRY)
    if build_is_over(row.finish_time, request.complete):
        return "finished", request.results
    return "running", None


def fold_jobs(
    rows: Iterable[GridRow], builders: Mapping[str, Builder], branch: str
) -> list[dict[str, Any]]:
    """One job per physical build (`physical_build`), attempt or build-less request; its
    `revision` is its newest request's, the one a merged build ran."""
    jobs: dict[tuple, dict[str, Any]] = {}
    for row in rows:
        request = row.request
        if row.build_id is None:
            key: tuple = ("request", request.id)
        else:
            key = physical_build(row.ran_on, request.buildername, row.number or 0, row.build_id)
        job = jobs.get(key)
        if job is None:
            state, result = job_state(row)
            job = jobs[key] = {
                "buildername": request.buildername,
                "platform": platform_of(builders, request.buildername, branch),
                "label": cell_label(request.buildername, branch),
                "state": state,
                "result": result,
                "build_id": row.build_id,
                "buildnumber": row.number,
                "request_ids": [],
                "revision": request.revision,
                "submittime": request.submitted_at,
                "starttime": row.start_time,
                "endtime": row.finish_time,
            }
        job["request_ids"].append(request.id)
        job["revision"] = request.revision  # rows come by request id: this one is the newest
        if row.build_id is not None and row.build_id > job["build_id"]:
            job["build_id"] = row.build_id
    return list(jobs.values())


def grid_pushes(
    pushes: Iterable[PushRow],
    rows: Iterable[GridRow],
    builders: Mapping[str, Builder],
    branch: str,
    chosen: GridFilter,
) -> list[dict[str, Any]]:
    """The pushes, newest first, each with the jobs that ran its revision and pass the
    filter, by platform then builder. A build merging requests of several pushes is shown
    once, in the push whose revision it built."""
    shown = [
        {
            "push_id": push.push_id,
            "revision": push.revision,
            "author": push.author,
            "comments": push.comments,
            "pushed_at": push.pushed_at,
            "jobs": [],
        }
        for push in pushes
    ]
    by_revision = {push["revision"]: push for push in reversed(shown)}
    for job in fold_jobs(rows, builders, branch):
        push = by_revision.get(job["revision"])
        if push is not None and chosen.keeps(job):
            push["jobs"].append(job)
    for push in shown:
        push["jobs"].sort(key=lambda job: (job["platform"], job["buildername"], job["submittime"]))
    return shown


def platforms_of(pushes: Iterable[Mapping[str, Any]]) -> list[str]:
    """The platforms the page's jobs run on: the grid's column groups."""
    return sorted({job["platform"] for push in pushes for job in push["jobs"]})
