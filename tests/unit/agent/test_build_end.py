"""The records a stop is judged by, on every engine: how a build ended (a master writes the
build's finish and the request's result in two transactions), and the builds of cancelled
requests that a master claimed anyway."""

from __future__ import annotations

from sqlalchemy import text

from buildapi.db.queries.actions import (
    BuildEnd,
    build_end,
    cancel_if_pending,
    running_builds_of_cancelled,
)
from buildapi.db.queries.buildrequests import insert_build
from tests.unit.agent.conftest import BUILD, START, Seeded, claim, finish, submit

MASTER = "bm01:/builds/master"


def execute(seeded: Seeded, sql: str, **params: object) -> None:
    with seeded.engine.begin() as connection:
        connection.execute(text(sql), params)


def end_of(seeded: Seeded, brid: int, number: int = 7) -> BuildEnd | None:
    with seeded.engine.connect() as connection:
        return build_end(connection, brid, number)


def test_the_end_is_known_once_both_writes_are_in(seeded: Seeded) -> None:
    _bsid, (brid,) = submit(seeded.engine, [BUILD])
    claim(seeded.engine, brid, MASTER)
    assert end_of(seeded, brid) is None
    execute(seeded, "UPDATE builds SET finish_time = :at WHERE brid = :brid", at=START + 90.4,
            brid=brid)  # fmt: skip
    assert end_of(seeded, brid) is None, "finished, but the request has no result yet"
    finish(seeded.engine, brid, results=2)
    assert end_of(seeded, brid) == BuildEnd(2)
    assert end_of(seeded, brid, number=8) is None


def test_a_request_put_back_ended_its_build(seeded: Seeded) -> None:
    _bsid, (brid,) = submit(seeded.engine, [BUILD])
    claim(seeded.engine, brid, MASTER)
    execute(
        seeded,
        "UPDATE builds SET finish_time = :at WHERE brid = :brid",
        at=START + 90,
        brid=brid,
    )
    execute(
        seeded,
        "UPDATE buildrequests SET claimed_at = 0, claimed_by_name = NULL WHERE id = :brid",
        brid=brid,
    )
    assert end_of(seeded, brid) == BuildEnd(None)


def test_builds_of_cancelled_requests_a_master_claimed(seeded: Seeded) -> None:
    _bsid, (cancelled, running) = submit(seeded.engine, [BUILD, BUILD])
    with seeded.engine.begin() as connection:
        assert cancel_if_pending(connection, cancelled, int(START) + 30)
    # A 0.8.2 master's claim does not check `complete`.
    for brid in (cancelled, running):
        execute(
            seeded,
            "UPDATE buildrequests SET claimed_at = :at, claimed_by_name = :master WHERE id = :brid",
            at=START + 31.5,
            master=MASTER,
            brid=brid,
        )
        with seeded.engine.begin() as connection:
            insert_build(connection, brid, 7, int(START) + 32)
    with seeded.engine.connect() as connection:
        found = running_builds_of_cancelled(connection)
    assert [(request.id, request.claimed_by_name, number) for request, number in found] == [
        (cancelled, MASTER, 7)
    ]
    finish(seeded.engine, cancelled, results=2)
    with seeded.engine.connect() as connection:
        assert running_builds_of_cancelled(connection) == []
