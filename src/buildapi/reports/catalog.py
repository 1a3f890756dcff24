"""The reports BuildAPI serves: the /reports menu, the docs and a smoke test loop over this list."""

from __future__ import annotations

from dataclasses import dataclass

# The branch of the branch reports (end to end, builders) asked without one, as in legacy.
REPORT_BRANCH = "mozilla-central"


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
        "/reports/builders",
        "Average Time per Builder",
        "Run times of finished build requests per platform, build type, job type and builder.",
        "/reports/builders/mozilla-inbound?detail_level=platform",
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
    ReportEntry(
        "/reports/testruns",
        "Test Runs",
        "Per builder: average build time and how much of it went to running tests.",
        "/reports/testruns?group=true",
    ),
    ReportEntry(
        "/reports/idlejobs",
        "Idle Jobs",
        "Idle-category builders: compute time and builds per interval.",
        "/reports/idlejobs?int_size=3600",
    ),
    ReportEntry(
        "/reports/pushes",
        "Pushes",
        "Pushes per branch and interval of the window, and on average per hour of the day.",
        "/reports/pushes?branches=mozilla-inbound,try",
    ),
    ReportEntry(
        "/reports/endtoend",
        "End to End Times",
        "Build runs of a branch: from the push to the last job's end, with status counts.",
        "/reports/endtoend/mozilla-inbound",
    ),
    ReportEntry(
        "/reports/revision",
        "Build Run",
        "Every build request of one revision: status, results, wait and run times.",
        "/reports/revision",
    ),
    ReportEntry(
        "/reports/trychooser",
        "Try Chooser",
        "Which authors and build runs on try asked for their jobs with try syntax.",
        "/reports/trychooser/try",
    ),
)
