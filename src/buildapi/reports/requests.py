"""The build-request model the end-to-end, build-run and try-chooser reports share.

Rows of `request_rows` (one per request, build and change) fold into one `BuildRequest` per
(request, build) pair; requests group into `BuildRun`s by sourcestamp revision. Status rules,
durations and the run counters live here once. Revisions stay as stored (40 characters), not
cut to 12 as the legacy reports did; a NULL buildset reason or change comment counts as text
that matches nothing instead of failing the report.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from buildapi.db.queries.report_requests import PendingChange, RequestRow
from buildapi.layout import FarmLayout
from buildapi.reports import classify
from buildapi.vocabulary import FORCE_BUILD_BUTTON, REBUILD_BUTTON, Result


class Status(IntEnum):
    """Where a request stands in the legacy reports (`status`, and `status_str` upper case)."""

    PENDING = 0
    RUNNING = 1
    COMPLETE = 2
    CANCELLED = 3
    INTERRUPTED = 4
    MISC = 5


# Authors that are tools, not people: left out of author lists and the try-chooser counts.
TOOL_AUTHORS = frozenset({"sendchange", "sendchange-unittest"})
TRY_SYNTAX = "try:"

BranchNamer = Callable[[str | None], str | None]


def results_str(results: int) -> str:
    """The legacy name of a result; `-` for no result (-1) or one it does not know."""
    result = Result.of(results)
    return result.legacy_name if result is not None else "-"


def branch_namer(layout: FarmLayout) -> BranchNamer:
    """A sourcestamp branch's name: the configured branch it belongs to, else the legacy
    report name (§1.7 table, lower-cased fallback). Each branch is named once per report."""

    @functools.cache
    def name(branch: str | None) -> str | None:
        return layout.branch_for_repo_path(branch) or classify.report_branch(branch)

    return name


@dataclass(slots=True)
class BuildRequest:
    """One (request, build) pair with the changes of its sourcestamp."""

    brid: int
    bid: int | None
    number: int | None
    buildsetid: int
    buildername: str
    branch: str | None
    branch_name: str | None
    ssid: int
    revision: str | None
    submitted_at: int
    claimed_at: int | None
    start_time: int | None
    complete_at: int | None
    finish_time: int | None
    claimed_by_name: str | None
    complete: int | None
    reason: str | None
    results: int
    changeids: list[int] = field(default_factory=list)
    changes_revision: str | None = None
    when_timestamp: int | None = None
    authors: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    revlink: str | None = None
    category: str | None = None
    repository: str | None = None
    project: str | None = None

    @classmethod
    def from_row(cls, row: RequestRow, branch_name: str | None) -> BuildRequest:
        return cls(
            brid=row.brid,
            bid=row.bid,
            number=row.number,
            buildsetid=row.buildsetid,
            buildername=row.buildername,
            branch=row.branch,
            branch_name=branch_name,
            ssid=row.ssid,
            revision=row.revision,
            submitted_at=row.submitted_at,
            claimed_at=row.claimed_at,
            start_time=row.start_time,
            complete_at=row.complete_at,
            finish_time=row.finish_time,
            claimed_by_name=row.claimed_by_name,
            complete=row.complete,
            reason=row.reason,
            results=-1 if row.results is None else row.results,
            revlink=row.revlink,
            category=row.category,
            repository=row.repository,
            project=row.project,
            changes_revision=row.changes_revision,
        )

    def add_change(self, row: RequestRow) -> None:
        if row.changeid is None:
            return
        self.changeids.append(row.changeid)
        if row.author and row.author not in self.authors:
            self.authors.append(row.author)
        if row.comments and row.comments not in self.comments:
            self.comments.append(row.comments)
        if row.when_timestamp is not None and (
            self.when_timestamp is None or row.when_timestamp < self.when_timestamp
        ):
            self.when_timestamp = row.when_timestamp
            self.changes_revision = row.changes_revision

    @property
    def status(self) -> int:
        """Legacy rules in order; 0 and NULL are both 'not set'."""
        started, claimed = bool(self.start_time), bool(self.claimed_at)
        done, done_at, finished = (
            bool(self.complete),
            bool(self.complete_at),
            bool(self.finish_time),
        )
        if not done and not done_at and not finished:
            if started and claimed:
                return Status.RUNNING
            if not started and not claimed:
                return Status.PENDING
        if done and done_at and finished and started and claimed:
            return Status.COMPLETE
        if not started and not claimed and done and done_at and not finished:
            return Status.CANCELLED
        if done and done_at and not finished and started and claimed:
            return Status.INTERRUPTED
        return Status.MISC

    @property
    def change_time(self) -> int | None:
        return self.when_timestamp or self.submitted_at

    @property
    def duration(self) -> int:
        """From the push to the request's completion; 0 when either is unknown."""
        if not self.complete_at or not self.change_time:
            return 0
        return self.complete_at - self.change_time

    @property
    def wait_time(self) -> int:
        if not self.start_time or not self.change_time:
            return 0
        return self.start_time - self.change_time

    @property
    def run_time(self) -> int:
        """From the build's start to the request's completion; 0 until both are known. (Legacy
        took the wait from a duration of 0, which gave running requests a negative time.)"""
        if not self.complete_at or not self.start_time:
            return 0
        return self.complete_at - self.start_time

    @property
    def uses_try_syntax(self) -> bool:
        return any(TRY_SYNTAX in comment for comment in self.comments)

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "brid": self.brid,
            "bid": self.bid,
            # Legacy joined the changes outward: a request without one has a single NULL.
            "changeid": self.changeids or [None],
            "branch": self.branch,
            "branch_name": self.branch_name,
            "buildername": self.buildername,
            "ssid": self.ssid,
            "revision": self.revision,
            "changes_revision": self.changes_revision,
            "when_timestamp": self.when_timestamp,
            "submitted_at": self.submitted_at,
            "claimed_at": self.claimed_at,
            "start_time": self.start_time,
            "complete_at": self.complete_at,
            "finish_time": self.finish_time,
            "claimed_by_name": self.claimed_by_name,
            "complete": self.complete,
            "reason": self.reason,
            "results": self.results,
            "results_str": results_str(self.results),
            "status": self.status,
            "status_str": Status(self.status).name,
            "authors": [author for author in self.authors if author],
            "comments": "\n".join(self.comments) if self.changeids else None,
            "revlink": self.revlink,
            "category": self.category,
            "repository": self.repository,
            "project": self.project,
            "buildsetid": self.buildsetid,
            "duration": self.duration,
            "wait_time": self.wait_time,
            "run_time": self.run_time,
        }


def fold(rows: Iterable[RequestRow], namer: BranchNamer) -> Iterator[BuildRequest]:
    """One BuildRequest per run of consecutive rows with the same (request, build)."""
    current: BuildRequest | None = None
    for row in rows:
        if current is None or (current.brid, current.bid) != (row.brid, row.bid):
            if current is not None:
                yield current
            current = BuildRequest.from_row(row, namer(row.branch))
        current.add_change(row)
    if current is not None:
        yield current


def _max(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


class BuildRun:
    """The requests of one revision: status counters, timings and who pushed."""

    def __init__(self, revision: str, *, keep_requests: bool = False) -> None:
        self.revision = revision
        self.keep_requests = keep_requests
        self.requests: list[BuildRequest] = []
        self.total = 0
        self.brids: set[int] = set()
        self.changeids: set[int] = set()
        self.changes_revisions: set[str | None] = set()
        self.authors: set[str] = set()
        self.statuses = [0] * len(Status)
        self.result_buckets = {"success": 0, "warnings": 0, "failure": 0, "other": 0}
        self.results = -1
        self.lst_change_time: int | None = None
        self.gst_finish_time: int | None = None
        self.gst_complete_at: int | None = None
        self.rebuilds = self.forcebuilds = 0
        self.kinds = {"builds": 0, "unittests": 0, "talos": 0}
        self.incomplete = False
        self.pending_changes: list[PendingChange] = []
        self.uses_try_chooser: dict[str, bool] = {}
        self.used_trychooser = False

    def add(self, request: BuildRequest) -> None:
        self.total += 1
        self.brids.add(request.brid)
        self.changeids.update(request.changeids)
        self.changes_revisions.add(request.changes_revision)
        self.authors.update(request.authors)
        self.statuses[request.status] += 1
        self.result_buckets[_bucket(request.results)] += 1
        self.results = max(self.results, request.results)
        if request.when_timestamp:
            self.lst_change_time = min(
                self.lst_change_time or request.when_timestamp, request.when_timestamp
            )
        self.gst_finish_time = _max(self.gst_finish_time, request.finish_time)
        self.gst_complete_at = _max(self.gst_complete_at, request.complete_at)
        reason = request.reason or ""
        self.rebuilds += reason.startswith(REBUILD_BUTTON)
        self.forcebuilds += reason.startswith(FORCE_BUILD_BUTTON)
        if request.changeids:
            self.kinds[request_kind(request)] += 1
        uses_try = request.uses_try_syntax
        self.used_trychooser = self.used_trychooser or uses_try
        for author in request.authors:
            if author not in TOOL_AUTHORS:
                self.uses_try_chooser[author] = self.uses_try_chooser.get(author, False) or uses_try
        if self.keep_requests:
            self.requests.append(request)

    def add_pending_change(self, change: PendingChange) -> None:
        """A change pushed for this revision that no request carries yet: the run is not done."""
        self.incomplete = True
        self.pending_changes.append(change)

    @property
    def duration(self) -> int:
        """From the earliest push to the last request's completion; 0 while either is missing."""
        if not self.gst_complete_at or not self.lst_change_time:
            return 0
        return self.gst_complete_at - self.lst_change_time

    @property
    def is_complete(self) -> bool:
        return (
            not self.incomplete
            and not self.statuses[Status.RUNNING]
            and not self.statuses[Status.PENDING]
        )

    def summary(self) -> dict[str, Any]:
        """The legacy run keys (without the requests)."""
        return {
            "revision": self.revision,
            "changes_revision": sorted(str(rev) for rev in self.changes_revisions),
            "results": self.results,
            "results_str": results_str(self.results),
            "is_complete": "yes" if self.is_complete else "no",
            "total_build_requests": self.total,
            "unique_total_build_requests": len(self.brids),
            "duration": self.duration,
            "lst_change_time": self.lst_change_time,
            "gst_finish_time": self.gst_finish_time or 0,  # legacy: 0 until a build finishes
            **{status.name.lower(): self.statuses[status] for status in Status},
            "rebuilds": self.rebuilds,
            "forcebuilds": self.forcebuilds,
            **self.kinds,
            **self.result_buckets,
            "authors": sorted(author for author in self.authors if author),
            "pending_changes": [pending_change_dict(change) for change in self.pending_changes],
        }


def request_kind(request: BuildRequest) -> str:
    """`unittests`, `talos` or `builds`: by the sourcestamp branch a sendchange gave tests
    (`…-unittest`, `…-talos`), as legacy counted, or else by the builder's name, for tests
    triggered on their build's own sourcestamp (legacy counted those as builds)."""
    branch = request.branch or ""
    job = classify.job_type(request.buildername)
    if branch.endswith("unittest") or job == "unittest":
        return "unittests"
    if branch.endswith("talos") or job == "talos":
        return "talos"
    return "builds"


def pending_change_dict(change: PendingChange) -> dict[str, Any]:
    return dataclasses.asdict(change)


def _bucket(results: int) -> str:
    if results in (Result.SUCCESS, Result.WARNINGS):
        return Result(results).legacy_name
    if Result.FAILURE <= results <= Result.RETRY:
        return Result.FAILURE.legacy_name
    return "other"


def build_runs(
    requests: Iterable[BuildRequest], *, keep_requests: bool = False
) -> tuple[dict[str, BuildRun], dict[str, BuildRun], int]:
    """Runs by sourcestamp revision; the runs by change revision where that differs (so a
    pending change finds its run); and how many (request, build) objects there were."""
    runs: dict[str, BuildRun] = {}
    by_change_revision: dict[str, BuildRun] = {}
    total = 0
    for request in requests:
        total += 1
        key = request.revision or "None"
        run = runs.get(key)
        if run is None:
            run = runs[key] = BuildRun(key, keep_requests=keep_requests)
        run.add(request)
        if request.changes_revision and request.changes_revision != key:
            by_change_revision[request.changes_revision] = run
    return runs, by_change_revision, total
