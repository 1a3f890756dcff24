"""The done-marker ledger on every engine: marker, effect and outcome commit together, and a job
marked before answers its first outcome without acting again."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from buildapi.agent.ledger import GENERIC_FAILURE, Ledger, Txn
from buildapi.db.queries.changes import NewChange, insert_change
from buildapi.selfserve.messages import Outcome
from tests.unit.agent.conftest import Seeded, count, job, rows

NOW = 1_780_000_600  # the seeded clock


def write_change(txn: Txn) -> Outcome:
    """An effect with a row to show for it."""
    insert_change(txn.connection, NewChange("dev", "", "try", "abc", txn.now))
    return Outcome(False, "Ok")


def test_marker_effect_and_outcome_commit_together(seeded: Seeded) -> None:
    ledger = Ledger(seeded.engine, seeded.clock)
    rebuild = job("rebuild_request", brid=1, count=1, priority=0)

    assert ledger.stored(rebuild.request_id) is None
    assert ledger.commit(rebuild, write_change) == Outcome(False, "Ok")

    assert ledger.stored(rebuild.request_id) == Outcome(False, "Ok")
    assert rows(
        seeded.engine, "SELECT job_id, action, done_at, errors, msg FROM selfserve_actions"
    ) == [(rebuild.request_id, "rebuild_request", NOW, 0, "Ok")]
    assert rows(seeded.engine, "SELECT when_timestamp FROM changes") == [(NOW,)]


def test_a_job_marked_before_answers_its_first_outcome(seeded: Seeded) -> None:
    """What an agent meets when another one marked the job after it last looked."""
    ledger = Ledger(seeded.engine, seeded.clock)
    cancel = job("cancel_request", brid=1)
    ledger.answer(cancel, Outcome(True, "No request with that id"))

    assert ledger.commit(cancel, write_change) == Outcome(True, "No request with that id")
    assert count(seeded.engine, "changes") == 0
    assert count(seeded.engine, "selfserve_actions") == 1


def test_a_failing_effect_leaves_no_marker(seeded: Seeded) -> None:
    ledger = Ledger(seeded.engine, seeded.clock)
    cancel = job("cancel_request", brid=1)

    def broken(txn: Txn) -> Outcome:
        write_change(txn)
        raise RuntimeError("half way")

    with pytest.raises(RuntimeError):
        ledger.commit(cancel, broken)
    assert count(seeded.engine, "changes") == count(seeded.engine, "selfserve_actions") == 0
    assert ledger.record_failure(cancel) == GENERIC_FAILURE
    assert ledger.stored(cancel.request_id) == GENERIC_FAILURE


def test_reading_writes_no_marker(seeded: Seeded) -> None:
    ledger = Ledger(seeded.engine, seeded.clock)
    with ledger.reading() as txn:
        assert txn.now == NOW
        assert txn.connection.execute(text("SELECT COUNT(*) FROM buildrequests")).scalar() == 0
    assert count(seeded.engine, "selfserve_actions") == 0
