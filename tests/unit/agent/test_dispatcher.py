"""The dispatcher on every engine: a database outage asks for redelivery, any other failure
is answered and recorded."""

from __future__ import annotations

import pytest

from buildapi.agent.dispatcher import SCHEMA_ERROR, RetryLater
from buildapi.agent.ledger import GENERIC_ERROR
from buildapi.agent.masters import MastersClient
from buildapi.config import Settings
from buildapi.db.engines import make_engine
from buildapi.farm.server import free_ports
from buildapi.selfserve.messages import Outcome
from tests.unit.agent.conftest import REVISION, Seeded, dispatcher_of, job, rows, snapshot


def test_database_unavailable_asks_for_redelivery(seeded: Seeded, settings: Settings) -> None:
    (port,) = free_ports(1)
    gone = make_engine(f"postgresql://nobody:secret@127.0.0.1:{port}/schedulerdb", settings)
    dispatcher = dispatcher_of(gone, seeded.layout, seeded.masters, seeded.clock)
    with pytest.raises(RetryLater):
        dispatcher.perform(job("cancel_request", brid=1))
    gone.dispose()


class BrokenMasters(MastersClient):
    def send_change(self, *args: object, **kwargs: object) -> None:
        raise RuntimeError("unexpected")


def test_an_unexpected_failure_is_answered_and_recorded(seeded: Seeded) -> None:
    before = snapshot(seeded.engine)
    send = job("new_build_at_revision", branch="try", revision=REVISION)
    with BrokenMasters(1.0, "http://127.0.0.1:9/clobberer") as masters:
        dispatcher = dispatcher_of(seeded.engine, seeded.layout, masters, seeded.clock)
        assert dispatcher.perform(send) == Outcome(True, GENERIC_ERROR)
    assert seeded.dispatcher.perform(send) == Outcome(True, GENERIC_ERROR)
    assert snapshot(seeded.engine) == before
    assert rows(seeded.engine, "SELECT job_id, errors FROM selfserve_actions") == [
        (send.request_id, 1)
    ]


@pytest.mark.parametrize("statement", ["DROP TABLE builds", "DROP TABLE selfserve_actions"])
def test_a_job_failing_on_the_schema_is_answered_not_retried(
    seeded: Seeded, statement: str
) -> None:
    """A missing table fails the same way every time (a later Buildbot's schema, or one
    changed under a running agent): an error answer, recorded when the markers can be."""
    with seeded.engine.begin() as connection:
        connection.exec_driver_sql(statement)
    cancel = job("cancel_build", bid=1)
    outcome = seeded.dispatcher.perform(cancel)
    assert outcome.errors
    assert outcome.msg.startswith(SCHEMA_ERROR)
    assert seeded.dispatcher.perform(cancel) == outcome
