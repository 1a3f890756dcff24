"""The done-markers of job requests, shared by every backend: each job request id is carried out
at most once.

Every action ends in one transaction that first inserts the job's row in `selfserve_actions` (the
done-marker), then makes the effect, then stores the outcome on the marker. A redelivered job
finds the marker and answers the stored outcome; a second agent racing on the same job blocks on
the marker's primary key until the first commits, then fails with IntegrityError and answers the
first one's outcome. A farm whose database holds the markers (Buildbot 0.8: the scheduler
database) writes its effect in that transaction, so nothing is half done: the effect and the
marker commit together or neither.

HTTP side effects (stop a build, clobber a slave, send a change) cannot join that transaction,
and the transaction cannot stay open across them: masters write the same database (with SQLite
the stop itself would wait for our lock). So an action that needs one checks the marker, makes
the HTTP call outside any transaction, then commits the marker with the outcome. A crash between
the call and the commit makes a redelivery call again; that is harmless for a stop (the build
has finished: the database shows it complete, reported as nothing to do) and for a clobber. A
change sent twice is the one duplicate that cannot be ruled out without a transaction spanning
the master; the window is the time of one commit.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from buildapi.clock import Clock
from buildapi.db.queries.actions import begin_action, end_action, stored_outcome
from buildapi.selfserve.messages import JobRequest, Outcome

GENERIC_ERROR = "there was an error processing your request; see the agent's log"
GENERIC_FAILURE = Outcome(True, GENERIC_ERROR)


@dataclass(frozen=True)
class Txn:
    """One open transaction of the ledger, and the time every row written in it carries."""

    connection: Connection
    now: int


class Ledger:
    """The done-markers in `engine`'s `selfserve_actions` table, timed by `clock`."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    def stored(self, job_id: int) -> Outcome | None:
        """The outcome of a job carried out before, or None."""
        with self.engine.connect() as connection:
            stored = stored_outcome(connection, job_id)
        return Outcome(stored.errors, stored.msg) if stored else None

    def commit(self, job: JobRequest, effect: Callable[[Txn], Outcome]) -> Outcome:
        """Marker, effect and outcome in one transaction; a job already marked (by an earlier
        delivery or a concurrent agent) answers its stored outcome instead."""
        try:
            with self.engine.begin() as connection:
                txn = Txn(connection, int(self.clock.now()))
                begin_action(connection, job.request_id, job.action, txn.now)
                outcome = effect(txn)
                end_action(connection, job.request_id, outcome.errors, outcome.msg)
            return outcome
        except IntegrityError:
            stored = self.stored(job.request_id)
            if stored is None:
                raise
            return stored

    def answer(self, job: JobRequest, outcome: Outcome) -> Outcome:
        """Record an outcome that needs no effect in the database."""
        return self.commit(job, lambda _txn: outcome)

    def record_failure(self, job: JobRequest) -> Outcome:
        """Record that `job` failed, so a redelivery answers the same generic error."""
        return self.answer(job, GENERIC_FAILURE)

    @contextlib.contextmanager
    def reading(self) -> Iterator[Txn]:
        """A read outside any marker, closed again before the HTTP call that it decides."""
        with self.engine.connect() as connection:
            yield Txn(connection, int(self.clock.now()))
