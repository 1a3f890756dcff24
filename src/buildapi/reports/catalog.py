"""The reports BuildAPI serves: the /reports menu, the docs and a smoke test loop over this list."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReportEntry:
    path: str
    title: str
    description: str
    example: str


REPORTS = (
    ReportEntry(
        "/reports/waittimes",
        "Wait Times",
        "How long jobs of a slave pool waited for a slave, in blocks of minutes, per platform.",
        "/reports/waittimes/testpool?mpb=10&maxb=60",
    ),
    ReportEntry(
        "/reports/slaves",
        "Slaves",
        "How busy each slave was, how its builds ended, and busy slaves per interval and silo.",
        "/reports/slaves?last_int_size=3600",
    ),
    ReportEntry(
        "/reports/status_builders",
        "Builders",
        "Builds per builder: how many, how long on average, how they ended, on how many slaves.",
        "/reports/status_builders",
    ),
)
