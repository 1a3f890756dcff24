"""Query parameters every report shares: the time window and the branch path."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Path, Query

from buildapi.reports.window import DEFAULT_INTERVALS, Window, make_window, parse_time
from buildapi.web.deps import State
from buildapi.web.params import Integer

TimeQuery = Annotated[
    str | None, Query(description="epoch seconds, or a YYYY-MM-DD date in the report time zone")
]
IntSizeQuery = Annotated[
    Integer | None, Query(description="interval seconds; default: a report's share of the window")
]
BranchPath = Annotated[str, Path(description="a branch of the branches config")]
NamePath = Annotated[str, Path(description="builder name, exactly")]


def window_dependency(intervals: int = DEFAULT_INTERVALS) -> Callable[..., Window]:
    """The report window from the query; without `int_size` it is cut into `intervals`."""

    def report_window(
        state: State,
        starttime: TimeQuery = None,
        endtime: TimeQuery = None,
        int_size: IntSizeQuery = None,
    ) -> Window:
        zone = state.settings.zone
        return make_window(
            parse_time(starttime, "starttime", zone),
            parse_time(endtime, "endtime", zone, end=True),
            int_size,
            now=int(time.time()),  # a defaulted end is served too: whole seconds
            max_days=state.settings.reports_max_window_days,
            intervals=intervals,
        )

    return report_window


ReportWindow = Annotated[Window, Depends(window_dependency())]
