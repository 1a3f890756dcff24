"""One structured log line, and the metrics, for each change of a job request's state:
recorded, sent to the broker, answered by an agent. A line written while a request is served
also carries that request's id, which joins it to the request's own line."""

from __future__ import annotations

import logging

from prometheus_client import Counter, Histogram

from buildapi.db.queries.jobrequests import Answered, NewJob
from buildapi.logs import REQUEST_ID
from buildapi.metrics import bounded
from buildapi.selfserve.messages import ACTIONS

log = logging.getLogger(__name__)

ACCEPTED = Counter(
    "buildapi_job_requests",
    "Job requests accepted (recorded, answered 202), by action",
    ["action"],
)
ANSWER_AGE = Histogram(
    "buildapi_job_request_answer_age_seconds",
    "Time from recording a job request to storing its agent's answer, by action",
    ["action"],
    buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600),
)
for _action in ACTIONS:  # every series exists from the start, at zero
    ACCEPTED.labels(action=_action)
    ANSWER_AGE.labels(action=_action)


def _fields(event: str, job_id: int, action: str, user: str) -> dict[str, object]:
    """Named here, not left to the log handler, so every handler (a test's too) sees them."""
    return {
        "event": event,
        "job_id": job_id,
        "action": action,
        "user": user,
        "request_id": REQUEST_ID.get(),
    }


def recorded(job_id: int, job: NewJob) -> None:
    ACCEPTED.labels(action=bounded(job.action, ACTIONS)).inc()
    log.info(
        "job %d recorded: %s by %s",
        job_id,
        job.action,
        job.who,
        extra=_fields("recorded", job_id, job.action, job.who),
    )


def sent(job_id: int, action: str, user: str) -> None:
    log.info("job %d sent to the agents", job_id, extra=_fields("sent", job_id, action, user))


def answered(job_id: int, answer: Answered, now: float) -> None:
    """Only the first answer counts: a repeat is the same answer delivered again."""
    if not answer.first:
        log.debug("job %d answered again; the first answer stays", job_id)
        return
    ANSWER_AGE.labels(action=bounded(answer.action, ACTIONS)).observe(max(0.0, now - answer.when))
    log.info(
        "job %d answered after %.0f s",
        job_id,
        now - answer.when,
        extra=_fields("answered", job_id, answer.action, answer.who),
    )
