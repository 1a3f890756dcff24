"""What the agent's consumer needs from whatever carries out job requests."""

from __future__ import annotations

from typing import Protocol

from buildapi.selfserve.messages import JobRequest, Outcome


class RetryLater(Exception):
    """The work could not be done now (database or broker gone): leave the message unacked so
    it is delivered again, rather than answer with an error."""


class Backend(Protocol):
    """Carries out job requests on one kind of farm (Buildbot 0.8 masters and their scheduler
    database today; a Buildbot 4 REST backend can implement the same method)."""

    def perform(self, job: JobRequest) -> Outcome:
        """Carry out `job` at most once: a job id already carried out returns its first outcome.
        Raise RetryLater when the farm cannot be reached to decide."""
        ...
