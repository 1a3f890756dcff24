"""Carries out job requests: the stored outcome of a job done before, else its action. This is
the one place that tells a database outage (try again later) from a failure (answer it)."""

from __future__ import annotations

import logging

from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from buildapi.agent.actions import HANDLERS, Context
from buildapi.agent.backend import Backend
from buildapi.agent.ledger import GENERIC_FAILURE, Ledger
from buildapi.agent.stopping import Stopper
from buildapi.db.compatibility import is_schema_mismatch
from buildapi.layout import FarmLayout
from buildapi.selfserve.messages import JobRequest, Outcome

log = logging.getLogger(__name__)

SCHEMA_ERROR = "the scheduler database's schema is not the one BuildAPI supports (Buildbot 0.8.2)"


class RetryLater(Exception):
    """The work could not be done now (database or broker gone): leave the message unacked so
    it is delivered again, rather than answer with an error."""


class Dispatcher:
    """Job requests carried out at most once on the farm that `backend` reaches."""

    def __init__(
        self,
        ledger: Ledger,
        backend: Backend,
        layout: FarmLayout,
        *,
        stop_confirm_seconds: float = 30.0,
    ) -> None:
        self.ledger = ledger
        stopper = Stopper(ledger, backend, stop_confirm_seconds)
        self.context = Context(ledger, backend, layout, stopper)

    def perform(self, job: JobRequest) -> Outcome:
        """Carry out `job` once; a database outage raises RetryLater, any other failure is
        logged and answered (and recorded) as a generic error."""
        try:
            return self.ledger.stored(job.request_id) or HANDLERS[job.action](job, self.context)
        except Exception as exc:
            if is_schema_mismatch(exc):
                return self._schema_answer(job, exc)
            if _unavailable(exc):
                raise RetryLater(f"scheduler database unavailable: {exc}") from exc
            log.exception("job request %d (%s) failed", job.request_id, job.action)
        try:
            return self.ledger.record_failure(job)
        except Exception as exc:
            if _unavailable(exc):
                raise RetryLater(f"scheduler database unavailable: {exc}") from exc
            log.exception("cannot record the failure of job request %d", job.request_id)
            return GENERIC_FAILURE

    def _schema_answer(self, job: JobRequest, exc: BaseException) -> Outcome:
        """A statement the schema cannot answer fails the same way every time: answer with
        an error instead of retrying forever, recorded when the done-markers can be written."""
        reason = str(getattr(exc, "orig", exc)).splitlines()[0]
        log.error(
            "job request %d (%s) failed on the schema: %s", job.request_id, job.action, reason
        )
        outcome = Outcome(True, f"{SCHEMA_ERROR}: {reason}")
        try:
            return self.ledger.answer(job, outcome)
        except Exception:
            log.exception("cannot record the answer of job request %d", job.request_id)
            return outcome


def _unavailable(exc: BaseException) -> bool:
    """The database is down or unreachable (as opposed to a bad statement or bad data)."""
    if isinstance(exc, OperationalError | DisconnectionError | PoolTimeout):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated
