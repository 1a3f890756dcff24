"""What a real Buildbot 0.8.2 master does that the simulated farm must do too (the farm's own
tests check the same rules: tests/unit/farm): build numbers go on per builder across a restart,
and a buildset's result is SUCCESS or FAILURE, never WARNINGS."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from buildapi.db.schema.scheduler import buildsets
from tests.realmaster.conftest import Contract
from tests.realmaster.test_actions import BUILDER, FAILURE, SUCCESS, push, running

WARNINGS = 1

pytestmark = pytest.mark.usefixtures("settled")


def buildset_result(contract: Contract, brid: int) -> int | None:
    (row,) = contract.rows(
        select(buildsets.c.results).where(buildsets.c.id == contract.request(brid).buildsetid)
    )
    return row.results


@pytest.mark.parametrize(
    ("outcome", "request_result", "buildset"),
    [("warn", WARNINGS, SUCCESS), ("fail", FAILURE, FAILURE), (None, SUCCESS, SUCCESS)],
)
def test_a_buildset_ends_with_success_or_failure(
    contract: Contract, outcome: str | None, request_result: int, buildset: int
) -> None:
    revision = contract.revision()
    if outcome:
        contract.master.end_with(revision, outcome)
    brids = push(contract, revision)
    contract.master.open_gate(revision)
    for brid in brids.values():
        assert contract.wait_complete(brid).results == request_result
    assert buildset_result(contract, brids[BUILDER]) == buildset


def test_build_numbers_go_on_after_a_restart(contract: Contract) -> None:
    revision, brids = running(contract)
    before = contract.builds_of(brids[BUILDER])[-1].number
    contract.master.open_gate(revision)
    contract.wait_complete(brids[BUILDER])
    contract.master.restart()
    revision, brids = running(contract)
    assert contract.builds_of(brids[BUILDER])[-1].number == before + 1
