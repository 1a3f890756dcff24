"""Pushes for the pushes report: one row per distinct (push time in whole seconds, sourcestamp
branch), streamed.

Only hg pushes count (a change whose revlink or comments point at hg.mozilla.org); branches of
unit tests, talos, add-on tests and l10n are left out.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlalchemy import Connection, not_, or_, select

from buildapi.db.queries.live import BranchFilter
from buildapi.db.queries.seconds import whole_seconds
from buildapi.db.schema.scheduler import changes, sourcestamp_changes, sourcestamps

HG_PREFIXES = ("http://hg.mozilla.org", "https://hg.mozilla.org")
EXCLUDED_BRANCHES = ("%unittest", "%talos", "addontester%", "%l10n%")


def push_rows(
    connection: Connection,
    starttime: float,
    endtime: float,
    branches: Sequence[BranchFilter] = (),
) -> Iterator[tuple[str | None, int]]:
    """(sourcestamp branch, push time) pairs in [starttime, endtime), of `branches` if any."""
    from_hg = or_(
        *(changes.c.revlink.startswith(prefix) for prefix in HG_PREFIXES),
        *(changes.c.comments.startswith(prefix) for prefix in HG_PREFIXES),
    )
    pushed_at = whole_seconds(changes.c.when_timestamp)
    query = (
        select(sourcestamps.c.branch, pushed_at)
        .join(sourcestamp_changes, sourcestamp_changes.c.sourcestampid == sourcestamps.c.id)
        .join(changes, changes.c.changeid == sourcestamp_changes.c.changeid)
        .where(
            from_hg,
            changes.c.when_timestamp >= starttime,
            changes.c.when_timestamp < endtime,
            *(not_(sourcestamps.c.branch.like(pattern)) for pattern in EXCLUDED_BRANCHES),
        )
        .group_by(pushed_at, sourcestamps.c.branch)
    )
    if branches:
        query = query.where(or_(*(branch.clause(sourcestamps.c.branch) for branch in branches)))
    result = connection.execution_options(stream_results=True, yield_per=2000).execute(query)
    yield from ((branch, when) for branch, when in result)
