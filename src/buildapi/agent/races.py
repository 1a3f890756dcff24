"""Builds a master started for requests the agent had cancelled: the claim race. A Buildbot
0.8.2 master reads the unclaimed requests, then claims them with an UPDATE that does not check
`complete`, so a request the agent cancels between the two is claimed and built anyway. Nothing
outside the master can close that window, so the agent looks for such builds every
`agent_race_check_seconds` and stops them."""

from __future__ import annotations

import logging
import threading

from buildapi.agent.backend import FarmError, RunningBuild
from buildapi.agent.stopping import Stopper

log = logging.getLogger(__name__)

RACE_WHO = "buildapi-agent"
RACE_COMMENT = "Cancelled via self-serve before a master claimed it"


class RaceSweeper:
    """Stops the builds of cancelled requests that a master claimed anyway."""

    def __init__(self, stopper: Stopper, every: float) -> None:
        self.stopper = stopper
        self.every = every

    def sweep(self) -> int:
        """Stop every such build now; how many the masters were asked to stop."""
        ledger, backend = self.stopper.ledger, self.stopper.backend
        with ledger.reading() as txn:
            found = backend.running_builds_of_cancelled(txn)
        asked = 0
        for request, number in found:
            try:
                build = RunningBuild(backend.claiming_master(request), request.buildername, number)
                end = self.stopper.stop(request.id, build, RACE_WHO, RACE_COMMENT)
            except FarmError as exc:
                log.error(
                    "cannot stop build %d of %r, which runs cancelled request %d: %s",
                    number,
                    request.buildername,
                    request.id,
                    exc,
                )
                continue
            asked += 1
            log.warning(
                "request %d was cancelled, yet %s claimed it: build %d of %r %s",
                request.id,
                build.master.name,
                number,
                request.buildername,
                end.value,
            )
        return asked

    def run(self, stop: threading.Event) -> None:
        """Sweep every `every` seconds until `stop` is set; a failed sweep (the database gone)
        is logged and tried again next time."""
        while not stop.wait(self.every):
            try:
                self.sweep()
            except Exception:
                log.exception("the look for builds of cancelled requests failed")
