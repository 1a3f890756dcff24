"""Idle jobs: maintenance Mozilla's masters ran on a slave that had nothing else to do.

No scheduler requests them, so they exist only in statusdb (builders of category `idle`, their
builds and steps), never in schedulerdb: wait times do not see them. A few of the biggest test
pools get one idle builder each. When a slave of such a pool finishes a build and no request
waits for the pool, the slave runs the idle job, at most once every two to six farm hours and
never as the pool's last idle slave, so a request arriving meanwhile still finds a slave. The
live farm and the history share this policy.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass

from buildapi.farm.jobs import plan_job
from buildapi.farm.routing import Routing
from buildapi.farm.slaves import SlavePools
from buildapi.layout import Builder, FarmLayout, Master
from buildapi.layout.models import BuilderProperties

CATEGORY = "idle"  # the builders' category, which the idle-job report selects on
REASON = "idle slave"
MAX_BUILDERS = 3
GAP = (2 * 3600.0, 6 * 3600.0)  # farm seconds from the end of a slave's idle job to its next
KEEP_IDLE = 1  # slaves of the pool left idle for requests that come meanwhile


@dataclass(frozen=True)
class IdleRun:
    master: Master
    finish: float
    result: int


@dataclass(frozen=True)
class IdleBuilder:
    name: str
    builder: Builder  # kind "idle"; its branch is the category
    masters: tuple[Master, ...]  # those that run the pool's other builders


def idle_builders(layout: FarmLayout, routing: Routing) -> dict[str, IdleBuilder]:
    """Pool -> its idle builder, for the biggest test pools (most slaves, then name) that some
    master serves."""
    by_pool: dict[str, list[tuple[str, Builder]]] = {}
    for name, builder in sorted(layout.builders.items()):
        if builder.kind in ("test", "talos"):
            by_pool.setdefault(builder.slavepool, []).append((name, builder))
    candidates = []
    for pool, members in by_pool.items():
        masters = {m.name: m for name, _b in members for m in routing.masters_for(name)}
        if masters and len(layout.slaves.get(pool, ())) > KEEP_IDLE:
            candidates.append((-len(layout.slaves[pool]), pool, members, masters))
    found = {}
    for _size, pool, members, masters in sorted(candidates, key=lambda c: c[:2])[:MAX_BUILDERS]:
        platform, product = Counter(
            (b.properties.platform, b.properties.product) for _n, b in members
        ).most_common(1)[0][0]
        builder = Builder(
            properties=BuilderProperties(branch=CATEGORY, platform=platform, product=product),
            slavepool=pool,
            shortname=f"{pool}-idle",
            kind="idle",
        )
        found[pool] = IdleBuilder(
            f"{pool} idle maintenance", builder, tuple(masters[n] for n in sorted(masters))
        )
    return found


class IdleJobs:
    """Which slave runs which idle job when, how long and where; the caller knows whether a
    request waits. Its random stream is its own, so idle jobs draw nothing from the farm's."""

    def __init__(
        self, layout: FarmLayout, routing: Routing, seed: int, *, enabled: bool = True
    ) -> None:
        self.builders = idle_builders(layout, routing) if enabled else {}
        self.rng = random.Random(f"{seed}/idle")
        self._next: dict[str, float] = {}  # slave -> when it may run its next idle job

    def offer(self, slaves: SlavePools, slave: str, now: float) -> IdleBuilder | None:
        """The idle job `slave` runs now, if any: the caller just freed it and nothing waits
        for its pool."""
        pool = slaves.pool_of(slave)
        idle = self.builders.get(pool) if pool is not None else None
        if idle is None or not slaves.is_idle(slave) or self._next.get(slave, -math.inf) > now:
            return None
        if slaves.idle_count(idle.builder.slavepool) <= KEEP_IDLE:
            return None
        return idle

    def plan(self, idle: IdleBuilder, slave: str, now: float, speed: float = 1.0) -> IdleRun:
        """Run `idle` on `slave` from `now` (farm seconds pass `speed` times faster than the
        clock's): its master, end and result. The slave's next idle job comes a gap later."""
        master = self.rng.choice(idle.masters)
        job = plan_job(self.rng, "idle", idle.builder.properties.platform)
        finish = now + job.duration / speed
        self._next[slave] = finish + self.rng.uniform(*GAP) / speed
        return IdleRun(master, finish, job.result)
