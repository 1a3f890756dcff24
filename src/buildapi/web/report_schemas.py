"""JSON Schemas of the reports' answers, for /openapi.json.

Reports are BuildAPI's own tables more than frozen legacy shapes, so the models are open:
they name the keys every answer has (with their types) and allow more."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from buildapi.reports.catalog import ReportEntry

Row = dict[str, Any]


class Report(BaseModel):
    model_config = ConfigDict(extra="allow")


class Windowed(Report):
    starttime: int
    endtime: int


class Counts(Report):
    total: int
    intervals: list[int]


class WaitTimes(Windowed):
    pool: str
    int_size: int
    mpb: int
    maxb: int
    total: int
    wt: dict[str, Counts]
    platforms: dict[str, Row]


class Slaves(Windowed):
    total_slaves: int
    intervals: list[int]
    busy_slaves: list[int]
    slaves: list[Row]


class Slave(Windowed):
    slave_id: int
    name: str
    intervals: list[Row]
    builds: list[Row]


class StatusBuilders(Windowed):
    builders: list[Row]


class StatusBuilder(Windowed):
    name: str
    total: int
    slaves: list[Row]


class TestRuns(Windowed):
    total: int
    builders: dict[str, Row]


class IdleJobs(Windowed):
    intervals: list[int]
    total: int
    builders: dict[str, Row]


class Pushes(Windowed):
    total: int
    intervals: list[int]
    branch: dict[str, Counts]
    hourly: list[float]


class BuildRuns(Windowed):
    branch_name: str
    total_build_requests: int
    build_runs: dict[str, Row]


class BuildRun(Report):
    revision: str
    branch_name: str
    build_requests: list[Row]


class Builders(Windowed):
    branch_name: str
    detail_level: str
    builders: list[Row]
    nodes: list[Row]


class Builder(Windowed):
    buildername: str
    build_requests: list[Row]


REPORTS: dict[str, Any] = {
    "/reports": list[ReportEntry],
    "/reports/waittimes": WaitTimes,
    "/reports/waittimes/{pool}": WaitTimes,
    "/reports/slaves": Slaves,
    "/reports/slaves/{slave_id}": Slave,
    "/reports/status_builders": StatusBuilders,
    "/reports/status_builders/{name}": StatusBuilder,
    "/reports/testruns": TestRuns,
    "/reports/idlejobs": IdleJobs,
    "/reports/pushes": Pushes,
    "/reports/endtoend": BuildRuns,
    "/reports/endtoend/{branch}": BuildRuns,
    "/reports/revision/{branch}/{revision}": BuildRun,
    "/reports/trychooser": BuildRuns,
    "/reports/trychooser/{branch}": BuildRuns,
    "/reports/builders": Builders,
    "/reports/builders/{branch}": Builders,
    "/reports/builder/{name}": Builder,
}
