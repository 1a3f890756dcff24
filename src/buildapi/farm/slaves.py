"""The machines: idle and busy slaves per pool."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence


class SlavePools:
    """Which slaves of each pool are idle. A slave runs one build at a time."""

    def __init__(self, pools: Mapping[str, Sequence[str]]) -> None:
        self._idle = {pool: sorted(names) for pool, names in pools.items()}
        self._pool_of = {name: pool for pool, names in pools.items() for name in names}
        self.busy: set[str] = set()

    @property
    def known(self) -> set[str]:
        return set(self._pool_of)

    def has_idle(self, pool: str) -> bool:
        return bool(self._idle.get(pool))

    def take(self, pool: str, rng: random.Random) -> str:
        idle = self._idle[pool]
        slave = idle.pop(rng.randrange(len(idle)))
        self.busy.add(slave)
        return slave

    def take_named(self, slave: str) -> None:
        """Take this idle slave (an idle job runs on the slave that was just freed)."""
        pool = self._pool_of[slave]
        self._idle[pool].remove(slave)
        self.busy.add(slave)

    def is_idle(self, slave: str) -> bool:
        return slave in self._pool_of and slave not in self.busy

    def pool_of(self, slave: str) -> str | None:
        return self._pool_of.get(slave)

    def release(self, slave: str) -> None:
        self.busy.discard(slave)
        pool = self._pool_of.get(slave)
        if pool is not None:
            idle = self._idle[pool]
            idle.append(slave)
            idle.sort()

    def idle_count(self, pool: str) -> int:
        return len(self._idle.get(pool, ()))
