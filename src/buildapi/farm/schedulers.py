"""Schedulers: pushes become buildsets of build requests; good builds request their tests;
nightly and PGO builds run on a timer."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from itertools import groupby
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from buildapi.db.queries.buildsets import NewBuildset, insert_buildset, insert_sourcestamp
from buildapi.db.queries.changes import (
    Change,
    changes_after,
    comments_of_sourcestamp,
    latest_revision,
)
from buildapi.db.queries.schedulers import load_scheduler, save_scheduler_state
from buildapi.farm.properties import buildset_properties
from buildapi.farm.selection import Selector, tests_scheduler
from buildapi.farm.trychooser import parse_try
from buildapi.layout import FarmLayout

CLASS_NAME = "buildapi.farm.Scheduler"
DAY = 86400.0
# kind of periodic build -> (farm seconds between runs, the builder kinds it requests)
PERIODIC = {"nightly": (DAY, ("nightly", "l10n")), "pgo": (6 * 3600.0, ("pgo",))}


@dataclass(frozen=True)
class Trigger:
    """A finished good build whose tests are now wanted."""

    buildername: str
    sourcestampid: int
    buildset: dict[str, tuple[Any, str]]


class Schedulers:
    """`write_time` gives the time a master writes each new buildset with (see writetimes)."""

    def __init__(
        self,
        layout: FarmLayout,
        rng: random.Random,
        zone: ZoneInfo,
        speed: float,
        write_time: Callable[[], float],
    ) -> None:
        self.layout = layout
        self.rng = rng
        self.zone = zone
        self.speed = speed
        self.write_time = write_time
        self.selector = Selector(layout)

    def process_changes(self, connection: Connection, now: float) -> list[int]:
        """Turn each new push (changes of one branch and time) into a buildset."""
        schedulerid, state = load_scheduler(connection, "changes", CLASS_NAME)
        changes = changes_after(connection, state.get("last_processed", 0))
        if not changes:
            return []
        created = []
        for _key, group in groupby(changes, key=lambda c: (c.branch, c.when_timestamp)):
            bsid = self._schedule_push(connection, list(group), now)
            if bsid is not None:
                created.append(bsid)
        state["last_processed"] = changes[-1].changeid
        save_scheduler_state(connection, schedulerid, state)
        return created

    def _schedule_push(self, connection: Connection, push: list[Change], now: float) -> int | None:
        tip = push[-1]
        branch = self.layout.branch_for_repo_path(tip.branch)
        if branch is None:
            return None
        builders, _selection = self.selector.for_push(branch, tip.comments)
        if not builders:
            return None
        repo_path = self.layout.branches[branch].repo_path
        ssid = insert_sourcestamp(
            connection, repo_path, tip.revision, [change.changeid for change in push]
        )
        return self._order(connection, branch, f"{branch}-dep", ssid, builders, now)

    def trigger_tests(self, connection: Connection, trigger: Trigger, now: float) -> int | None:
        upstream = self.layout.builders[trigger.buildername]
        branch = upstream.properties.branch
        selection = None
        if branch == "try":
            comments = comments_of_sourcestamp(connection, trigger.sourcestampid)
            selection = parse_try(comments[-1]) if comments else None
        builders = self.selector.tests_for(trigger.buildername, selection)
        if not builders:
            return None
        scheduler = tests_scheduler(trigger.buildername, upstream)
        properties = {**trigger.buildset, "scheduler": (scheduler, "Scheduler")}
        return order_builds(
            connection, trigger.sourcestampid, builders, properties, self.write_time()
        )

    def run_periodic(self, connection: Connection, now: float) -> list[int]:
        """Start the nightly and PGO builds that are due, at each branch's newest revision."""
        created = []
        for branch in sorted(self.layout.branches):
            for kind, (interval, kinds) in PERIODIC.items():
                names = self.selector.periodic(branch, kinds)
                if names:
                    bsid = self._periodic(connection, branch, kind, names, interval, now)
                    if bsid is not None:
                        created.append(bsid)
        return created

    def _periodic(
        self,
        connection: Connection,
        branch: str,
        kind: str,
        builders: list[str],
        interval: float,
        now: float,
    ) -> int | None:
        schedulerid, state = load_scheduler(connection, f"{branch}-{kind}", CLASS_NAME)
        real_interval = interval / self.speed
        if "next" not in state:
            state["next"] = now + self.rng.uniform(0.1, 1.0) * real_interval
            save_scheduler_state(connection, schedulerid, state)
            return None
        if now < state["next"]:
            return None
        state["next"] = now + real_interval
        save_scheduler_state(connection, schedulerid, state)
        repo_path = self.layout.branches[branch].repo_path
        revision = latest_revision(connection, repo_path)
        if revision is None:
            return None
        ssid = insert_sourcestamp(connection, repo_path, revision)
        return self._order(connection, branch, f"{branch}-{kind}", ssid, builders, now)

    def _order(
        self,
        connection: Connection,
        branch: str,
        scheduler: str,
        ssid: int,
        builders: list[str],
        now: float,
    ) -> int:
        properties = buildset_properties(self.rng, branch, scheduler, now, self.zone)
        return order_builds(connection, ssid, builders, properties, self.write_time())


def order_builds(
    connection: Connection,
    ssid: int,
    builders: list[str],
    properties: dict[str, tuple[Any, str]],
    submitted_at: float,
) -> int:
    """A scheduler's buildset on a sourcestamp: one pending request per builder."""
    return insert_buildset(
        connection,
        NewBuildset(
            reason="scheduler",
            submitted_at=submitted_at,
            builders=builders,
            properties=properties,
            sourcestampid=ssid,
        ),
    )[0]
