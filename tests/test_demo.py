"""`buildapi demo` as a new user runs it: a live farm within a minute, side by side with another."""

from __future__ import annotations

import datetime
import gzip
import json
import sqlite3
from pathlib import Path
from typing import Any

import httpx

from buildapi.dumps.daily import SETTLE_SECONDS
from tests.api.test_dumps import BUILD_KEYS
from tests.processes import free_port, running, wait_until

DUMPS = "/builddata/buildjson"


def first_value(database: Path, sql: str) -> Any:
    with sqlite3.connect(database) as connection:
        return connection.execute(sql).fetchone()[0]


def count(database: Path, sql: str) -> int:
    return int(first_value(database, sql))


def demo_args(port: int, data: Path, history_days: float = 0.05) -> list[str]:
    return [
        "demo",
        "--port",
        str(port),
        "--data-dir",
        str(data),
        "--history-days",
        str(history_days),
    ]


def test_two_demos_run_side_by_side_with_live_farms(tmp_path: Path) -> None:
    first_port, second_port = free_port(), free_port()
    first, second = tmp_path / "first", tmp_path / "second"
    with running(demo_args(first_port, first)), running(demo_args(second_port, second)):
        for port in (first_port, second_port):
            health = httpx.get(f"http://127.0.0.1:{port}/healthz?format=json", timeout=10)
            assert health.json()["status"] == "OK"
        masters = [json.loads((data / "masters.json").read_text()) for data in (first, second)]
        ports = [{master["http_port"] for master in document} for document in masters]
        assert not ports[0] & ports[1], "the two demos share master ports"
        master = masters[0][0]
        page = httpx.get(f"http://127.0.0.1:{master['http_port']}/builders/x/builds/1", timeout=10)
        assert page.status_code == 404 and master["name"] in page.json()["msg"]

        scheduler = first / "schedulerdb.sqlite"
        history = count(scheduler, "SELECT MAX(id) FROM buildrequests")
        assert history > 0, "no history was written"
        wait_until(
            lambda: count(scheduler, "SELECT COUNT(*) FROM buildrequests") > history,
            60,
            "new build requests in the live farm",
        )
        started = datetime.datetime.now(datetime.UTC).replace(tzinfo=None, microsecond=0)
        finished = (
            "SELECT COUNT(*) FROM builds WHERE result != 5 "  # RETRY: lost when the farm started
            f"AND endtime >= '{started.isoformat(sep=' ')}'"
        )
        wait_until(lambda: count(first / "statusdb.sqlite", finished) > 0, 90, "a build finishing")


def complete_days(statusdb: Path) -> list[datetime.date]:
    """The UTC days from the first build's through the last one that is over (and settled)."""
    first = datetime.date.fromisoformat(
        first_value(statusdb, "SELECT MIN(endtime) FROM builds")[:10]
    )
    settled = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=SETTLE_SECONDS)
    last = settled.date() - datetime.timedelta(days=1)
    return [first + datetime.timedelta(days=n) for n in range((last - first).days + 1)]


def served_gzip(url: str) -> tuple[httpx.Response, bytes]:
    """The response and its body as sent, before any Content-Encoding is undone."""
    with httpx.stream("GET", url, timeout=10) as response:
        return response, b"".join(response.iter_raw())


def check_day_file(url: str, day: datetime.date, statusdb: Path) -> None:
    """Gzip bytes over HTTP of the legacy document: every build that ended that UTC day."""
    response, body = served_gzip(url)
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    document = json.loads(gzip.decompress(body))
    assert set(document) == {"builds", "builders", "slaves", "starttime", "endtime"}
    start = int(datetime.datetime.combine(day, datetime.time(), datetime.UTC).timestamp())
    assert (document["starttime"], document["endtime"]) == (start, start + 86399)
    ended = f"SELECT COUNT(*) FROM builds WHERE date(endtime) = '{day.isoformat()}'"
    assert len(document["builds"]) == count(statusdb, ended) > 0
    for build in document["builds"]:
        assert set(build) == BUILD_KEYS
        assert start <= build["endtime"] <= start + 86399
        assert str(build["builder_id"]) in document["builders"]


def test_demo_serves_the_daily_files_of_its_history(tmp_path: Path) -> None:
    port, data = free_port(), tmp_path / "demo"
    with running(demo_args(port, data, history_days=2.5)):
        days = complete_days(data / "statusdb.sqlite")
        names = [f"builds-{day.isoformat()}.js.gz" for day in days]
        assert len(names) >= 2, "2.5 days of history cover two UTC days that are over"
        dumps = f"http://127.0.0.1:{port}{DUMPS}"

        def listed() -> set[str]:
            return set(httpx.get(f"{dumps}?format=json", timeout=10).json()["files"])

        wait_until(lambda: set(names) <= listed(), 90, "the daily files of the history")
        today = datetime.datetime.now(datetime.UTC).date().isoformat()
        assert f"builds-{today}.js.gz" not in listed(), "the day still running has no file"
        for day, name in zip(days, names, strict=True):
            check_day_file(f"{dumps}/{name}", day, data / "statusdb.sqlite")
