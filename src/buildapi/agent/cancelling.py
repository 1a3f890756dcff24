"""Cancelling requests, which mixes database effects and HTTP: pending requests are cancelled in
the ledger's transaction, claimed ones by stopping their build. When a pass finds claimed
requests it rolls back, stops their builds, and runs again with those results, so the marker,
the cancels and the reported stops commit together."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from buildapi.agent.backend import Backend, FarmError, RunningBuild
from buildapi.agent.ledger import Ledger, Txn
from buildapi.agent.stopping import StopEnd, Stopper, still_running
from buildapi.db.queries.actions import RequestState
from buildapi.selfserve.messages import JobRequest, Outcome

STOP_COMMENT = "Cancelled via self-serve"
# Requests claimed while being cancelled are stopped and the cancel runs again, this often.
CANCEL_PASSES = 3


@dataclass(frozen=True)
class _StopTarget:
    brid: int
    build: RunningBuild


class _NeedsStop(Exception):
    """Raised inside a cancel pass to roll it back: these builds must be stopped first."""

    def __init__(self, targets: list[_StopTarget]) -> None:
        super().__init__(f"{len(targets)} builds to stop")
        self.targets = targets


def cancel(
    job: JobRequest,
    ledger: Ledger,
    backend: Backend,
    stopper: Stopper,
    select: Callable[[Txn], Sequence[int]],
    nothing: Outcome,
) -> Outcome:
    """Cancel each selected request: pending ones in the transaction (guarded against a master
    claiming them meanwhile), claimed ones by stopping the build that claimed them. `nothing`
    is the answer when no request was selected."""
    stopped: dict[int, Outcome] = {}
    for attempt in range(1, CANCEL_PASSES + 1):
        final = attempt == CANCEL_PASSES

        def effect(txn: Txn, final: bool = final) -> Outcome:
            return _cancel_pass(backend, txn, select(txn), stopped, final, nothing)

        try:
            return ledger.commit(job, effect)
        except _NeedsStop as needed:
            for target in needed.targets:
                stopped[target.brid] = _stop_request(stopper, target, job.who)
    raise AssertionError("the final cancel pass stops nothing")


def _cancel_pass(
    backend: Backend,
    txn: Txn,
    brids: Sequence[int],
    stopped: Mapping[int, Outcome],
    final: bool,
    nothing: Outcome,
) -> Outcome:
    lines: list[Outcome] = []
    cancelled: list[int] = []
    to_stop: list[_StopTarget] = []
    for brid in sorted({*brids, *stopped}):
        if backend.cancel_if_pending(txn, brid):
            cancelled.append(brid)
            lines.append(Outcome(False, f"{brid}: Ok"))
            continue
        if brid in stopped:
            lines.append(stopped[brid])
            continue
        state = backend.request_state(txn, brid)
        if state is None:
            lines.append(Outcome(True, "No request with that id"))
        elif state.complete:
            lines.append(Outcome(False, f"Request {brid} is complete, nothing to do"))
        elif final:
            lines.append(Outcome(True, f"Error cancelling request {brid}: claimed again"))
        else:
            try:
                to_stop.append(_StopTarget(brid, _running_build(backend, txn, state)))
            except FarmError as exc:
                lines.append(Outcome(True, f"Error cancelling build (request {brid}): {exc}"))
    if to_stop:
        raise _NeedsStop(to_stop)
    backend.complete_buildsets(txn, cancelled)
    if not lines:
        return nothing
    return Outcome(any(line.errors for line in lines), "\n".join(line.msg for line in lines))


def _running_build(backend: Backend, txn: Txn, state: RequestState) -> RunningBuild:
    master = backend.claiming_master(state)
    number = backend.live_build_number(txn, state.id)
    if number is None:
        raise FarmError(f"request {state.id} has no running build")
    return RunningBuild(master, state.buildername, number)


def _stop_request(stopper: Stopper, target: _StopTarget, who: str) -> Outcome:
    brid, build = target.brid, target.build
    where = f"build {build.number} on {build.master.name}"
    try:
        end = stopper.stop(brid, build, who, STOP_COMMENT)
    except FarmError as exc:
        return Outcome(True, f"Error cancelling build (request {brid}): {exc}")
    if end is StopEnd.FINISHED:
        return Outcome(False, f"Request {brid} finished before it could be stopped")
    if end is StopEnd.STILL_RUNNING:
        return Outcome(True, f"Error cancelling build (request {brid}): {still_running(build)}")
    return Outcome(False, f"{brid}: Ok (it was running; stopped {where})")
