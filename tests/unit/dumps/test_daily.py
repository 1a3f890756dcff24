"""The daily dumps: which UTC days are due, and writing them from a history without rewriting."""

from __future__ import annotations

import datetime
import gzip
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from buildapi.clock import VirtualClock
from buildapi.config import Settings
from buildapi.db.engines import Databases
from buildapi.db.queries.status_builds import naive_utc
from buildapi.db.schema import status as stat
from buildapi.dumps.daily import SETTLE_SECONDS, DailyDumps, day_name, due_days
from buildapi.dumps.run import FOUR_HOURS, refresh_forever
from buildapi.farm.history import write_history
from buildapi.layout import FarmLayout

D = datetime.date


def utc(*parts: int) -> float:
    return datetime.datetime(*parts, tzinfo=datetime.UTC).timestamp()


# The history ends at noon; it starts on 8 March, a 23-hour day in America/Los_Angeles.
END = utc(2026, 3, 10, 12)
HISTORY_DAYS = 2.4


def names(*days: datetime.date) -> list[str]:
    return [day_name(day) for day in days]


def test_no_history_has_no_day() -> None:
    assert due_days(None, END, set()) == []


def test_every_complete_day_from_the_first_is_due_newest_first() -> None:
    assert due_days(D(2026, 3, 7), END, set()) == [D(2026, 3, 9), D(2026, 3, 8), D(2026, 3, 7)]


def test_a_history_of_today_only_has_no_day_yet() -> None:
    assert due_days(D(2026, 3, 10), END, set()) == []


def test_only_the_days_without_a_file_are_due() -> None:
    written = set(names(D(2026, 3, 6), D(2026, 3, 8))) | {FOUR_HOURS}
    assert due_days(D(2026, 3, 5), END, written) == [D(2026, 3, 9), D(2026, 3, 7), D(2026, 3, 5)]


def test_a_day_is_due_once_utc_midnight_has_settled() -> None:
    midnight = utc(2026, 3, 10)
    assert due_days(D(2026, 3, 9), midnight + SETTLE_SECONDS - 1, set()) == []
    assert due_days(D(2026, 3, 9), midnight + SETTLE_SECONDS, set()) == [D(2026, 3, 9)]


@pytest.fixture
def far_zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process runs fourteen hours ahead of UTC, where 10 March has already ended."""
    with monkeypatch.context() as patch:
        patch.setenv("TZ", "Pacific/Kiritimati")
        time.tzset()
        yield
    time.tzset()


@pytest.mark.usefixtures("far_zone")
def test_days_are_utc_days_whatever_the_local_zone() -> None:
    assert due_days(D(2026, 3, 9), END + 11 * 3600, set()) == [D(2026, 3, 9)]


@pytest.fixture
def history(settings: Settings, databases: Databases, layout: FarmLayout) -> Databases:
    write_history(
        layout,
        databases,
        days=HISTORY_DAYS,
        jobs_per_day=200,
        seed=3,
        end=END,
        zone=settings.zone,
    )
    return databases


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path / "out"


def read(path: Path) -> dict:
    return json.loads(gzip.decompress(path.read_bytes()))


def ended_within(databases: Databases, start: float, end: float) -> int:
    query = select(func.count()).where(
        stat.builds.c.endtime >= naive_utc(start), stat.builds.c.endtime <= naive_utc(end)
    )
    with databases.statusdb.connect() as connection:
        return connection.execute(query).scalar_one()


def test_the_complete_days_of_a_history_are_written(history: Databases, out: Path) -> None:
    written = DailyDumps(history, out).write_due(END, lambda: True)
    assert [path.name for path in written] == names(D(2026, 3, 9), D(2026, 3, 8))
    for path, midnight in zip(written, (utc(2026, 3, 9), utc(2026, 3, 8)), strict=True):
        document = read(path)
        assert (document["starttime"], document["endtime"]) == (midnight, midnight + 86399)
        assert len(document["builds"]) == ended_within(history, midnight, midnight + 86399) > 0
        assert all(midnight <= build["endtime"] < midnight + 86400 for build in document["builds"])


def test_existing_files_stay_and_the_gaps_are_filled(history: Databases, out: Path) -> None:
    out.mkdir()
    kept = out / day_name(D(2026, 3, 9))
    kept.write_bytes(b"written before the restart")
    written = DailyDumps(history, out).write_due(END, lambda: True)
    assert [path.name for path in written] == names(D(2026, 3, 8))
    assert kept.read_bytes() == b"written before the restart"


def test_the_day_that_ended_is_written_after_midnight(history: Databases, out: Path) -> None:
    daily = DailyDumps(history, out)
    daily.write_due(END, lambda: True)
    assert daily.write_due(utc(2026, 3, 10, 23, 59), lambda: True) == []
    after = utc(2026, 3, 11) + SETTLE_SECONDS
    assert [path.name for path in daily.write_due(after, lambda: True)] == names(D(2026, 3, 10))


def test_one_day_at_least_then_only_while_asked(history: Databases, out: Path) -> None:
    daily = DailyDumps(history, out)
    assert [path.name for path in daily.write_due(END, lambda: False)] == names(D(2026, 3, 9))
    assert [path.name for path in daily.write_due(END, lambda: False)] == names(D(2026, 3, 8))


def test_no_build_no_file(databases: Databases, out: Path) -> None:
    assert DailyDumps(databases, out).write_due(END, lambda: True) == []
    assert not out.exists()


@pytest.mark.parametrize("daily", [True, False])
def test_a_round_writes_the_live_files_then_the_days(
    history: Databases, layout: FarmLayout, out: Path, daily: bool
) -> None:
    """Told to stop at once: one round, whose daily part stops after one day."""
    stop = threading.Event()
    stop.set()
    refresh_forever(history, layout, out, 60, stop, daily=daily, clock=VirtualClock(END))
    days = sorted(path.name for path in out.glob("builds-20*"))
    assert days == (names(D(2026, 3, 9)) if daily else [])
    assert read(out / FOUR_HOURS)["endtime"] == END
