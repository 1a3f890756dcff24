"""Stopping a running build and finding out what happened. A Buildbot 0.8 master answers its
stop form with the same redirect whether or not the build was still running, so the answer only
says the master took the form. What happened is read from the farm's records afterwards: the
build ends, and its request completes with the result the master chose (FAILURE for a stopped
build on 0.8.2; SUCCESS or WARNINGS mean it had finished on its own)."""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass

from buildapi.agent.backend import Backend, RunningBuild
from buildapi.agent.ledger import Ledger

# The results of a build that ended on its own, not because it was stopped.
FINISHED_ON_ITS_OWN = (0, 1)
POLL_SECONDS = 0.2


class StopEnd(enum.Enum):
    STOPPED = "stopped"
    FINISHED = "finished on its own"
    STILL_RUNNING = "still running"


@dataclass(frozen=True)
class Stopper:
    """Stops builds through `backend` and waits up to `confirm_seconds` to see them end."""

    ledger: Ledger
    backend: Backend
    confirm_seconds: float

    def stop(self, brid: int, build: RunningBuild, who: str, comments: str) -> StopEnd:
        """Stop `build` (of request `brid`) and say how it ended; FarmError when the master
        or the clobberer refused."""
        self.backend.stop_build(build, who, comments)
        deadline = time.monotonic() + self.confirm_seconds
        while True:
            with self.ledger.reading() as txn:
                end = self.backend.build_end(txn, brid, build.number)
            if end is not None:
                finished = end.results in FINISHED_ON_ITS_OWN
                return StopEnd.FINISHED if finished else StopEnd.STOPPED
            if time.monotonic() >= deadline:
                return StopEnd.STILL_RUNNING
            time.sleep(POLL_SECONDS)


def still_running(build: RunningBuild) -> str:
    """The reason a stop failed when the build did not end in time."""
    return (
        f"{build.master.name} took the stop, but build {build.number} of {build.buildername} "
        "is still running"
    )
