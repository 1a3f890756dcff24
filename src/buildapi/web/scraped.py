"""Metrics read at scrape time from the databases and the broker. These numbers are shared by
every web worker, so no process keeps them: any worker's /metrics reads the same. Each reading
is a few grouped counts on indexed columns (and the last hour of requests for the wait times),
and the broker's answer is awaited for `broker_connect_timeout_seconds` at most."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

from prometheus_client.core import GaugeHistogramMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from buildapi.db.engines import Databases
from buildapi.db.queries.heartbeats import count_agents_seen
from buildapi.db.queries.jobrequests import UNANSWERED, count_unanswered
from buildapi.db.queries.live import claimed_by_builder, pending_by_builder
from buildapi.db.queries.waittimes import wait_rows
from buildapi.layout import FarmLayout
from buildapi.metrics import bounded
from buildapi.reports.waittimes import UNKNOWN_BUILDER, pool_filter
from buildapi.selfserve.broker import Broker
from buildapi.vocabulary import POOL_NAMES
from buildapi.web.deps import AppState

log = logging.getLogger(__name__)

T = TypeVar("T")
UNKNOWN_POOL = "unknown"
# The wait-time histogram covers the requests submitted this long ago or later.
WAIT_WINDOW_SECONDS = 3600
WAIT_BUCKETS = (60, 300, 600, 900, 1800, 2700, 3600)


class Readings(Collector):
    """One scrape's readings; a part that cannot be read reports itself down (`*_up` 0)."""

    def __init__(
        self,
        databases: Databases,
        layout: FarmLayout,
        broker: Broker,
        broker_timeout: float,
        agent_stale_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.databases = databases
        self.layout = layout
        self.broker = broker
        self.broker_timeout = broker_timeout
        self.agent_stale_seconds = agent_stale_seconds
        self.clock = clock

    @classmethod
    def of(cls, state: AppState) -> Readings:
        settings = state.settings
        return cls(
            state.databases,
            state.layout,
            state.pipeline.broker,
            settings.broker_connect_timeout_seconds,
            settings.agent_stale_seconds,
        )

    def collect(self) -> Iterator[Metric]:
        databases = self.databases
        up = GaugeMetricFamily(
            "buildapi_db_up", "Whether a database answered this scrape", labels=["database"]
        )
        for name, read in (("buildapi_db", self._jobs), ("schedulerdb", self._farm)):
            engine = getattr(databases, name)
            try:
                with engine.connect() as connection:
                    families = list(read(connection))
            except SQLAlchemyError as exc:
                log.warning("metrics: cannot read %s: %s", name, exc)
                families = []
            up.add_metric([name], 1 if families else 0)
            yield from families
        yield up
        yield from self._broker()

    def _jobs(self, connection: Connection) -> Iterator[Metric]:
        counts = count_unanswered(connection)
        jobs = GaugeMetricFamily(
            "buildapi_job_requests_in_state",
            "Unanswered job requests in BuildAPI's database by pipeline state",
            labels=["state"],
        )
        for state in UNANSWERED:
            jobs.add_metric([state], counts.get(state, 0))
        alive = count_agents_seen(connection, int(self.clock() - self.agent_stale_seconds))
        yield jobs
        yield GaugeMetricFamily(
            "buildapi_agents_alive",
            f"Agents whose heartbeat was seen in the last {self.agent_stale_seconds:g} s",
            value=alive,
        )

    def _farm(self, connection: Connection) -> Iterator[Metric]:
        layout = self.layout
        for name, what, read in (
            ("buildapi_pool_pending_requests", "no master has claimed", pending_by_builder),
            ("buildapi_pool_running_requests", "a master has claimed", claimed_by_builder),
        ):
            family = GaugeMetricFamily(
                name, f"Build requests {what} and not complete, by pool", labels=["pool"]
            )
            for pool, count in _by_pool(layout, read(connection)).items():
                family.add_metric([pool], count)
            yield family
        yield self._wait_times(connection, layout)

    def _wait_times(self, connection: Connection, layout: FarmLayout) -> Metric:
        family = GaugeHistogramMetricFamily(
            "buildapi_pool_wait_seconds",
            f"How long the build requests of the last {WAIT_WINDOW_SECONDS} s that have started"
            " waited for their first build, by pool (push time or submission to start)",
            labels=["pool"],
        )
        now = self.clock()
        for pool in POOL_NAMES:
            waits = [
                row.first_start - row.requested_at
                for row in wait_rows(
                    connection, now - WAIT_WINDOW_SECONDS, now, pool_filter(layout, pool)
                )
                if row.first_start is not None and not UNKNOWN_BUILDER.match(row.buildername)
            ]
            buckets = [(str(bound), sum(wait <= bound for wait in waits)) for bound in WAIT_BUCKETS]
            family.add_metric([pool], [*buckets, ("+Inf", len(waits))], sum(waits))
        return family

    def _broker(self) -> Iterator[Metric]:
        queues = GaugeMetricFamily(
            "buildapi_broker_queue_messages",
            "Messages waiting in each queue (dead: the dead letters, for a human)",
            labels=["queue"],
        )
        try:
            depths = within(self.broker_timeout, self.broker.queue_depths)
        except Exception as exc:  # whatever the transport raises, the broker is down for us
            log.warning("metrics: cannot read the broker's queues: %s", exc)
            depths = None
        for key, depth in (depths or {}).items():
            queues.add_metric([key], depth)
        yield queues
        answered = 1 if depths is not None else 0
        yield GaugeMetricFamily(
            "buildapi_broker_up", "Whether the broker answered this scrape", value=answered
        )


def _by_pool(layout: FarmLayout, counts: dict[str, int]) -> dict[str, int]:
    """Builder counts added up by the builder's pool; builders the layout does not know, or of
    no pool, count as `unknown`."""
    totals = dict.fromkeys((*POOL_NAMES, UNKNOWN_POOL), 0)
    for name, count in counts.items():
        builder = layout.builders.get(name)
        pool = builder.pool if builder is not None else None
        totals[bounded(pool or UNKNOWN_POOL, POOL_NAMES, UNKNOWN_POOL)] += count
    return totals


def within(seconds: float, read: Callable[[], T]) -> T:
    """`read()`'s value, or TimeoutError after `seconds`: a hung broker must not hang the
    scrape. The reading thread is left to finish (or fail) on its own."""
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["value"] = read()
        except Exception as exc:  # handed to the caller
            outcome["error"] = exc

    thread = threading.Thread(target=run, name="metrics-read", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise TimeoutError(f"no answer within {seconds:g} s")
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]
