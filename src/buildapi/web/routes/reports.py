"""Every report's routes, from one table: parse the query, load the data, then answer JSON, CSV
(the report's table) or the HTML page (its charts and tables). Adding a report is one page
module, one loader and one line below."""

# No `from __future__ import annotations`: each endpoint's query parameter is annotated with
# its report's dependency at definition time, which FastAPI reads from the live annotation.

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import RedirectResponse, Response

from buildapi.errors import BadInput
from buildapi.reports.catalog import REPORT_BRANCH, REPORTS
from buildapi.reports.pages import ReportPage, Site
from buildapi.reports.pages.builders import BUILDER, BUILDERS
from buildapi.reports.pages.idlejobs import IDLE_JOBS
from buildapi.reports.pages.pushes import PUSHES
from buildapi.reports.pages.runs import BUILD_RUN, ENDTOEND, TRYCHOOSER
from buildapi.reports.pages.slaves import SLAVE, SLAVES, STATUS_BUILDER, STATUS_BUILDERS
from buildapi.reports.pages.testruns import TESTRUNS
from buildapi.reports.pages.waittimes import WAITTIMES
from buildapi.web.caching import cached
from buildapi.web.deps import AppState, State
from buildapi.web.negotiation import OutputFormat, TableFormat
from buildapi.web.params import checked_revision, known_branch
from buildapi.web.report_inputs import builders, runs, status, waittimes
from buildapi.web.responses import csv_response, render
from buildapi.web.urls import link
from buildapi.web.vendor import chart_js_path

router = APIRouter()

# Interval sizes offered as links on report pages: (label, seconds).
INTERVAL_SIZES = (("minute", 60), ("hour", 3600), ("day", 86400), ("week", 604800))
# Parameters the window form sets itself; the others are kept as hidden fields.
WINDOW_PARAMS = ("starttime", "endtime", "format")


@dataclass(frozen=True)
class ReportRoute:
    """One report URL: its query dependency, its loader and its page (CSV table, HTML)."""

    path: str
    name: str
    summary: str
    query: Callable[..., Any]
    load: Callable[[AppState, Any], Any]
    page: ReportPage
    ttl: int = 60


ROUTES = (
    ReportRoute(
        "/reports/waittimes",
        "waittimes_default",
        "Wait times of the build pool",
        waittimes.build_pool_query,
        waittimes.load,
        WAITTIMES,
    ),
    ReportRoute(
        "/reports/waittimes/{pool}",
        "waittimes",
        "Wait times of one slave pool",
        waittimes.pool_query,
        waittimes.load,
        WAITTIMES,
    ),
    ReportRoute(
        "/reports/slaves",
        "slaves",
        "How busy each slave was, and busy slaves over time",
        status.slaves_query,
        status.load_slaves,
        SLAVES,
    ),
    ReportRoute(
        "/reports/slaves/{slave_id}",
        "slave",
        "One slave: busy and idle time, its builds",
        status.slave_query,
        status.load_slave,
        SLAVE,
    ),
    ReportRoute(
        "/reports/status_builders",
        "builders_list",
        "Builds per builder: count, time, results",
        status.status_builders_query,
        status.load_status_builders,
        STATUS_BUILDERS,
    ),
    ReportRoute(
        "/reports/status_builders/{name}",
        "builder_details",
        "One builder's builds, per slave",
        status.status_builder_query,
        status.load_status_builder,
        STATUS_BUILDER,
    ),
    ReportRoute(
        "/reports/testruns",
        "testruns",
        "Per builder: build time and time spent in tests",
        status.testruns_query,
        status.load_testruns,
        TESTRUNS,
        ttl=300,
    ),
    ReportRoute(
        "/reports/idlejobs",
        "idlejobs",
        "Idle-category builders: compute time per interval",
        status.idle_jobs_query,
        status.load_idle_jobs,
        IDLE_JOBS,
        ttl=300,
    ),
    ReportRoute(
        "/reports/pushes",
        "pushes",
        "Pushes per branch and interval",
        runs.pushes_query,
        runs.load_pushes,
        PUSHES,
    ),
    ReportRoute(
        "/reports/endtoend",
        "endtoend_default",
        "End-to-end times of mozilla-central's build runs",
        runs.central_query,
        runs.load_endtoend,
        ENDTOEND,
    ),
    ReportRoute(
        "/reports/endtoend/{branch}",
        "endtoend",
        "End-to-end times of a branch's build runs",
        runs.branch_query,
        runs.load_endtoend,
        ENDTOEND,
    ),
    ReportRoute(
        "/reports/revision/{branch}/{revision}",
        "revision_report",
        "A build run: every request of a revision",
        runs.build_run_query,
        runs.load_build_run,
        BUILD_RUN,
    ),
    ReportRoute(
        "/reports/trychooser",
        "trychooser_default",
        "Try syntax use on try's build runs",
        runs.try_query,
        runs.load_trychooser,
        TRYCHOOSER,
    ),
    ReportRoute(
        "/reports/trychooser/{branch}",
        "trychooser",
        "Try syntax use on a branch's build runs",
        runs.branch_query,
        runs.load_trychooser,
        TRYCHOOSER,
    ),
    ReportRoute(
        "/reports/builders",
        "builders_default",
        "Average run time per builder of mozilla-central",
        builders.central_query,
        builders.load_tree,
        BUILDERS,
    ),
    ReportRoute(
        "/reports/builders/{branch}",
        "builders_of_branch",
        "Average run time per builder of a branch",
        builders.branch_query,
        builders.load_tree,
        BUILDERS,
    ),
    ReportRoute(
        "/reports/builder/{name}",
        "builder",
        "One builder's run times and build requests",
        builders.builder_query,
        builders.load_builder,
        BUILDER,
    ),
)


def report_endpoint(report: ReportRoute) -> Callable[..., Response]:
    """The endpoint of one report URL: JSON of the loaded data, its CSV table, or its page."""

    def endpoint(
        request: Request,
        fmt: TableFormat,
        state: State,
        query: Annotated[Any, Depends(report.query)],
    ) -> Response:
        data = report.load(state, query)
        if fmt == "csv":
            return csv_response(*report.page.table(data, query))
        if fmt == "json":
            return render(request, fmt, data)
        site = Site(state.settings.zone, tuple(state.layout.branches))
        shown = report.page.page(data, query, site)
        return render_report(request, fmt, data, shown.template, shown.title, **shown.context)

    endpoint.__name__ = report.name
    return cached(report.ttl)(endpoint)


@router.get("/reports", summary="The list of reports")
@cached(300)
def reports_menu(request: Request, fmt: OutputFormat, state: State) -> Response:
    data = [asdict(report) for report in REPORTS]
    return render_report(request, fmt, data, "reports/menu.html", "Reports")


@router.get("/reports/revision", summary="Find a build run: the form, or a redirect to the run")
def revision_jump(
    request: Request,
    fmt: OutputFormat,
    state: State,
    branch: Annotated[str | None, Query(description="a branch of the branches config")] = None,
    revision: Annotated[str | None, Query(description="12 to 40 hexadecimal characters")] = None,
) -> Response:
    """Without arguments the jump box (HTML only); with both, a 302 to the run's page, so the
    box works without JavaScript."""
    if branch is None and revision is None and fmt == "html":
        return render_report(
            request,
            fmt,
            None,
            "reports/revision_jump.html",
            "Build run",
            branches=list(state.layout.branches),
            current=REPORT_BRANCH,
        )
    if not branch or not revision:
        raise BadInput("branch and revision are both required: /reports/revision/{branch}/{rev}")
    known_branch(state, branch)
    target = f"/reports/revision/{quote(branch, safe='')}/{checked_revision(revision.strip())}"
    query = urlencode({"format": fmt}) if "format" in request.query_params else ""
    return RedirectResponse(link(request, target) + (f"?{query}" if query else ""), 302)


for _report in ROUTES:
    router.add_api_route(
        _report.path,
        report_endpoint(_report),
        methods=["GET"],
        summary=_report.summary,
        name=_report.name,
    )


def render_report(
    request: Request, fmt: str, data: Any, template: str, title: str, **context: Any
) -> Response:
    """JSON, or the report page with the report menu, the window form and its links."""
    if fmt == "json":
        return render(request, fmt, data)
    params = request.query_params

    def with_params(**changes: Any) -> str:
        merged = {key: value for key, value in params.items() if key != "format"} | changes
        return urlencode(merged)

    return render(
        request,
        fmt,
        data,
        template=template,
        title=title,
        report_menu=REPORTS,
        generated_at=time.time(),
        keep_params=[(k, v) for k, v in params.items() if k not in WINDOW_PARAMS],
        with_params=with_params,
        interval_sizes=INTERVAL_SIZES,
        chart_js=chart_js_path(),
        **context,
    )
