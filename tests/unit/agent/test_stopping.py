"""What a stop did, read from the farm's records after the master took it (a Buildbot 0.8
master redirects whether or not the build still ran), and the sweep that stops builds of
cancelled requests a master claimed anyway."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import Engine, create_engine

from buildapi.agent.actions import Context, cancel_build
from buildapi.agent.backend import Backend, FarmError, RunningBuild
from buildapi.agent.ledger import Ledger
from buildapi.agent.races import RaceSweeper
from buildapi.agent.stopping import StopEnd, Stopper
from buildapi.clock import VirtualClock
from buildapi.db.queries.actions import BuildEnd, BuildState, RequestState
from buildapi.db.schema import scheduler_metadata
from buildapi.layout import FarmLayout, Master
from buildapi.selfserve.messages import Outcome
from tests.unit.agent.conftest import job

MASTER = Master(
    name="bm01",
    hostname="127.0.0.1",
    http_port=8010,
    pb_port=9010,
    db_name="bm01:/builds/master",
    role="build",
)
REQUEST = RequestState(
    id=5,
    buildsetid=3,
    buildername="Linux mozilla-central build",
    claimed_at=100,
    claimed_by_name=MASTER.db_name,
    complete=0,
    external_idstring=None,
    sourcestampid=2,
)
BUILD = RunningBuild(MASTER, REQUEST.buildername, 12)


@dataclass
class ScriptedFarm:
    """A farm whose builds end as scripted: `ends` are what each look at the records finds
    after the stop (the last repeats)."""

    ends: list[BuildEnd | None]
    refuse: bool = False
    stops: list[tuple[RunningBuild, str]] = field(default_factory=list)
    cancelled: list[tuple[RequestState, int]] = field(default_factory=list)

    def stop_build(self, build: RunningBuild, who: str, comments: str) -> None:
        if self.refuse:
            raise FarmError("bm01 answered 500: nope")
        self.stops.append((build, who))

    def build_end(self, _txn: Any, brid: int, number: int) -> BuildEnd | None:
        assert (brid, number) == (REQUEST.id, BUILD.number)
        return self.ends.pop(0) if len(self.ends) > 1 else self.ends[0]

    def build_state(self, _txn: Any, bid: int) -> BuildState | None:
        return BuildState(bid, BUILD.number, None, REQUEST)

    def claiming_master(self, request: RequestState) -> Master:
        return MASTER

    def running_builds_of_cancelled(self, _txn: Any) -> list[tuple[RequestState, int]]:
        return self.cancelled


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_engine(f"sqlite:///{tmp_path / 'schedulerdb.sqlite'}")
    scheduler_metadata.create_all(engine)
    yield engine
    engine.dispose()


def stopper(engine: Engine, farm: ScriptedFarm, confirm: float = 5.0) -> Stopper:
    return Stopper(Ledger(engine, VirtualClock(1000.0)), cast(Backend, farm), confirm)


@pytest.mark.parametrize(
    ("ends", "expected"),
    [
        ([None, None, BuildEnd(2)], StopEnd.STOPPED),
        ([BuildEnd(2)], StopEnd.STOPPED),
        ([None, BuildEnd(None)], StopEnd.STOPPED),  # put back to be built again
        ([BuildEnd(0)], StopEnd.FINISHED),
        ([None, BuildEnd(1)], StopEnd.FINISHED),
    ],
)
def test_the_records_say_what_the_stop_did(
    engine: Engine, ends: list[BuildEnd | None], expected: StopEnd
) -> None:
    farm = ScriptedFarm(ends)
    assert stopper(engine, farm).stop(REQUEST.id, BUILD, "me", "why") is expected
    assert farm.stops == [(BUILD, "me")]


def test_a_build_that_does_not_end_is_still_running(engine: Engine) -> None:
    farm = ScriptedFarm([None])
    assert stopper(engine, farm, confirm=0.3).stop(REQUEST.id, BUILD, "me", "why") is (
        StopEnd.STILL_RUNNING
    )


def test_a_refused_stop_is_a_farm_error(engine: Engine) -> None:
    with pytest.raises(FarmError, match="answered 500"):
        stopper(engine, ScriptedFarm([None], refuse=True)).stop(REQUEST.id, BUILD, "me", "why")


@pytest.mark.parametrize(
    ("ends", "answer"),
    [
        ([BuildEnd(2)], Outcome(False, "Ok")),
        ([BuildEnd(0)], Outcome(False, "Build is complete, nothing to do")),
        (
            [None],
            Outcome(
                True,
                "Error cancelling build 40: bm01 took the stop, but build 12 of "
                "Linux mozilla-central build is still running",
            ),
        ),
    ],
)
def test_cancel_build_answers_what_happened(
    engine: Engine, layout: FarmLayout, ends: list[BuildEnd | None], answer: Outcome
) -> None:
    farm = ScriptedFarm(ends)
    ledger = Ledger(engine, VirtualClock(1000.0))
    context = Context(ledger, cast(Backend, farm), layout, stopper(engine, farm, confirm=0.3))
    assert cancel_build(job("cancel_build", bid=40), context) == answer


def test_the_sweep_stops_builds_of_cancelled_requests(engine: Engine) -> None:
    farm = ScriptedFarm([BuildEnd(2)], cancelled=[(REQUEST, BUILD.number)])
    sweeper = RaceSweeper(stopper(engine, farm), 10.0)
    assert sweeper.sweep() == 1
    assert farm.stops == [(BUILD, "buildapi-agent")]
    farm.cancelled = []
    assert sweeper.sweep() == 0


def test_a_sweep_that_cannot_stop_goes_on(engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    farm = ScriptedFarm([None], refuse=True, cancelled=[(REQUEST, BUILD.number)])
    sweeper = RaceSweeper(stopper(engine, farm), 10.0)
    assert sweeper.sweep() == 0
    assert "cannot stop build 12" in caplog.text
