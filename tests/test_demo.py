"""`buildapi demo` as a new user runs it: a live farm within a minute, side by side with another."""

from __future__ import annotations

import datetime
import json
import sqlite3
from pathlib import Path

import httpx

from tests.processes import free_port, running, wait_until


def count(database: Path, sql: str) -> int:
    with sqlite3.connect(database) as connection:
        return int(connection.execute(sql).fetchone()[0])


def demo_args(port: int, data: Path) -> list[str]:
    return ["demo", "--port", str(port), "--data-dir", str(data), "--history-days", "0.05"]


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
