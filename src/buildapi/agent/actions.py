"""One short function per action, in a name -> function table. Each checks what the job asks,
makes its effect through the farm's backend under the ledger's done-marker, and words the
answer, the same whichever backend does the work."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from buildapi.agent.backend import Backend, FarmError, RunningBuild
from buildapi.agent.cancelling import STOP_COMMENT, cancel
from buildapi.agent.ledger import Ledger, Txn
from buildapi.agent.stopping import StopEnd, Stopper, still_running
from buildapi.db.queries.actions import RequestState
from buildapi.layout import Branch, FarmLayout, PeriodicKind, periodic_builders
from buildapi.selfserve.messages import SELFSERVE_SUFFIX, JobRequest, Outcome
from buildapi.vocabulary import REBUILT_BY, REQUESTED_BY

OK = Outcome(False, "Ok")
CHANGE_COMMENT = "Submitted via self-serve"
REVISION = re.compile(r"[0-9a-fA-F]{12,40}")
MAX_COUNT = 100


@dataclass(frozen=True)
class Context:
    """What every action works with: the done-markers, the farm's backend, the farm layout and
    the stopper that tells what a stop did."""

    ledger: Ledger
    backend: Backend
    layout: FarmLayout
    stopper: Stopper


Action = Callable[[JobRequest, Context], Outcome]


def _target(layout: FarmLayout, name: str, revision: str) -> Branch | Outcome:
    """The branch of a revision action, or the answer refusing it."""
    branch = layout.branches.get(name)
    if branch is None:
        return Outcome(True, f"Unknown branch {name}")
    if not REVISION.fullmatch(revision):
        return Outcome(True, f"Bad revision {revision!r}: 12 to 40 hexadecimal characters")
    return branch


# -- requests and builds -----------------------------------------------------------------------


def reprioritize(job: JobRequest, context: Context) -> Outcome:
    brid, priority = job.args["brid"], job.args["priority"]

    def effect(txn: Txn) -> Outcome:
        if context.backend.set_priority_if_pending(txn, brid, priority):
            return OK
        state = context.backend.request_state(txn, brid)
        if state is None:
            return Outcome(True, "No request with that id")
        if state.complete:
            return Outcome(False, "Request is complete, nothing to do")
        return Outcome(False, "Request is running, nothing to do")

    return context.ledger.commit(job, effect)


def cancel_request(job: JobRequest, context: Context) -> Outcome:
    brid = job.args["brid"]
    return cancel(job, context.ledger, context.backend, context.stopper, lambda _txn: [brid], OK)


def cancel_revision(job: JobRequest, context: Context) -> Outcome:
    name, revision = job.args["branch"], job.args["revision"]
    branch = _target(context.layout, name, revision)
    if isinstance(branch, Outcome):
        return context.ledger.answer(job, branch)
    return cancel(
        job,
        context.ledger,
        context.backend,
        context.stopper,
        lambda txn: context.backend.incomplete_requests_at(txn, name, branch, revision),
        Outcome(False, "No incomplete requests at that revision"),
    )


def cancel_build(job: JobRequest, context: Context) -> Outcome:
    """Stop a running build through its master, outside any transaction (ledger.py), and say
    what the stop did."""
    bid = job.args["bid"]
    with context.ledger.reading() as txn:
        build = context.backend.build_state(txn, bid)
    if build is None:
        return context.ledger.answer(job, Outcome(True, "No build with that id"))
    if build.over:
        return context.ledger.answer(job, Outcome(False, "Build is complete, nothing to do"))
    try:
        master = context.backend.claiming_master(build.request)
        running = RunningBuild(master, build.request.buildername, build.number)
        end = context.stopper.stop(build.request.id, running, job.who, STOP_COMMENT)
    except FarmError as exc:
        return context.ledger.answer(job, Outcome(True, f"Error cancelling build {bid}: {exc}"))
    if end is StopEnd.FINISHED:
        return context.ledger.answer(job, Outcome(False, "Build is complete, nothing to do"))
    if end is StopEnd.STILL_RUNNING:
        message = f"Error cancelling build {bid}: {still_running(running)}"
        return context.ledger.answer(job, Outcome(True, message))
    return context.ledger.answer(job, OK)


def rebuild_build(job: JobRequest, context: Context) -> Outcome:
    def source(txn: Txn) -> RequestState | None:
        build = context.backend.build_state(txn, job.args["bid"])
        return build.request if build else None

    return _rebuild(job, context, source, "No build with that id")


def rebuild_request(job: JobRequest, context: Context) -> Outcome:
    return _rebuild(
        job,
        context,
        lambda txn: context.backend.request_state(txn, job.args["brid"]),
        "No request with that id",
    )


def _rebuild(
    job: JobRequest,
    context: Context,
    source: Callable[[Txn], RequestState | None],
    missing: str,
) -> Outcome:
    """`count` copies of the request's buildset, each with one pending request."""
    count, priority = job.args["count"], job.args["priority"]
    if not 1 <= count <= MAX_COUNT:
        return context.ledger.answer(job, Outcome(True, f"count must be 1 to {MAX_COUNT}"))

    def effect(txn: Txn) -> Outcome:
        request = source(txn)
        if request is None:
            return Outcome(True, missing)
        reason = f"{REBUILT_BY}{job.who}"
        context.backend.copy_buildset(txn, request, count=count, priority=priority, reason=reason)
        return OK

    return context.ledger.commit(job, effect)


# -- new builds --------------------------------------------------------------------------------


def new_build_at_revision(job: JobRequest, context: Context) -> Outcome:
    """A change through a master of the branch's kind, outside any transaction (ledger.py);
    the schedulers react to it as to a push."""
    name, revision = job.args["branch"], job.args["revision"]
    branch = _target(context.layout, name, revision)
    if isinstance(branch, Outcome):
        return context.ledger.answer(job, branch)
    master = context.backend.change_master(name)
    if master is None:
        return context.ledger.answer(
            job, Outcome(True, f"No enabled master takes changes for {name}")
        )
    try:
        context.backend.send_change(
            master, branch, revision=revision, who=job.who, comments=CHANGE_COMMENT
        )
    except FarmError as exc:
        return context.ledger.answer(job, Outcome(True, f"Error sending the change: {exc}"))
    return context.ledger.answer(job, OK)


def new_pgobuild_at_revision(job: JobRequest, context: Context) -> Outcome:
    return _new_builds_at_revision(job, context, "pgo")


def new_nightly_at_revision(job: JobRequest, context: Context) -> Outcome:
    return _new_builds_at_revision(job, context, "nightly")


def _new_builds_at_revision(job: JobRequest, context: Context, kind: PeriodicKind) -> Outcome:
    """One buildset for the branch's `kind` builders. The web refused a branch with none; the
    layout may have changed since."""
    name, revision = job.args["branch"], job.args["revision"]
    branch = _target(context.layout, name, revision)
    if isinstance(branch, Outcome):
        return context.ledger.answer(job, branch)
    builders = periodic_builders(context.layout, name, kind)
    if not builders:
        return context.ledger.answer(job, Outcome(False, "No builds to create"))

    def effect(txn: Txn) -> Outcome:
        context.backend.create_buildset(
            txn,
            branch=branch.repo_path,
            revision=revision,
            builders=builders,
            priority=job.args["priority"],
            reason=f"{REQUESTED_BY}{job.who}",
            properties={},
            changeids=(),
        )
        return OK

    return context.ledger.commit(job, effect)


def new_build_for_builder(job: JobRequest, context: Context) -> Outcome:
    """One request for one builder, on a sourcestamp of the short branch name and a change
    on `<branch>-selfserve`, so that no scheduler of the real branch fires."""
    name, revision = job.args["branch"].removesuffix(SELFSERVE_SUFFIX), job.args["revision"]
    builder, files = job.args["builder_name"], job.args["files"]
    target = _target(context.layout, name, revision)
    if isinstance(target, Outcome):
        return context.ledger.answer(job, target)
    if builder not in context.layout.builders:
        return context.ledger.answer(job, Outcome(True, f"Unknown builder {builder}"))
    if not all(isinstance(file, str) for file in files):
        return context.ledger.answer(job, Outcome(True, "files must be a list of file names"))

    def effect(txn: Txn) -> Outcome:
        branch = name + SELFSERVE_SUFFIX
        changeid = context.backend.add_change(
            txn, branch=branch, revision=revision, who=job.who, files=files
        )
        context.backend.create_buildset(
            txn,
            branch=name,
            revision=revision,
            builders=[builder],
            priority=job.args["priority"],
            reason=f"{REQUESTED_BY}{job.who}",
            properties=job.args["properties"],
            changeids=[changeid],
        )
        return OK

    return context.ledger.commit(job, effect)


HANDLERS: dict[str, Action] = {
    "reprioritize": reprioritize,
    "cancel_request": cancel_request,
    "cancel_build": cancel_build,
    "rebuild_build": rebuild_build,
    "rebuild_request": rebuild_request,
    "cancel_revision": cancel_revision,
    "new_build_at_revision": new_build_at_revision,
    "new_pgobuild_at_revision": new_pgobuild_at_revision,
    "new_nightly_at_revision": new_nightly_at_revision,
    "new_build_for_builder": new_build_for_builder,
}
