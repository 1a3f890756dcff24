"""Write quotas: the per-user lock row, and how much of a user's rate their recent job requests
use. Callers hold the lock while they read the usage and insert, so the check and the insert
are one step for every web worker on every engine."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, func, insert, select, update

from buildapi.db.schema.buildapi import jobrequests, write_quotas


@dataclass(frozen=True)
class Quota:
    """At most `limit` of weight per user in any `window` seconds."""

    limit: int
    window: int


def lock_quota(connection: Connection, who: str, now: int) -> bool:
    """Lock the user's row until the transaction ends; False when they have none yet (end the
    transaction, add_quota_row, try again). An update, so that on SQLite the transaction starts
    by taking the database's write lock, and on the servers other writers wait for the row."""
    result = connection.execute(
        update(write_quotas).where(write_quotas.c.who == who).values(touched_at=now)
    )
    return result.rowcount > 0


def add_quota_row(connection: Connection, who: str, now: int) -> None:
    """The user's first write makes their row, in a transaction of its own: inserted within the
    locking transaction it would deadlock two first writers on MariaDB (gap locks). Raises
    IntegrityError when another worker made it first."""
    with connection.begin():
        connection.execute(insert(write_quotas).values(who=who, touched_at=now))


def used_total(connection: Connection, who: str, now: int, quota: Quota) -> int:
    """The weight of the user's job requests still in the window, summed by the database: a
    busy user's window holds thousands of rows."""
    query = select(func.coalesce(func.sum(jobrequests.c.weight), 0)).where(
        jobrequests.c.who == who, jobrequests.c.when > now - quota.window
    )
    return int(connection.execute(query).scalar_one())


def used_weight(connection: Connection, who: str, now: int, quota: Quota) -> list[tuple[int, int]]:
    """(when, weight) of the user's job requests still in the window, oldest first."""
    query = (
        select(jobrequests.c.when, jobrequests.c.weight)
        .where(jobrequests.c.who == who, jobrequests.c.when > now - quota.window)
        .order_by(jobrequests.c.when, jobrequests.c.id)
    )
    return [(when, weight) for when, weight in connection.execute(query)]


def seconds_until_room(used: list[tuple[int, int]], weight: int, now: int, quota: Quota) -> int:
    """0 when `weight` fits beside `used` (from used_weight); otherwise how long until enough of
    it has left the window. `weight` must not exceed the limit, or it never fits."""
    excess = sum(taken for _when, taken in used) + weight - quota.limit
    if excess <= 0:
        return 0
    for when, taken in used:
        excess -= taken
        if excess <= 0:
            return max(1, when + quota.window - now)
    raise ValueError(f"a weight of {weight} is over the limit of {quota.limit}")
