"""The day, revision and job-history pages: paging, filters and server-side sorting on a big
day, bad parameters, and the JSON of the same URLs unchanged by it all."""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import insert

from buildapi.config import load_settings
from buildapi.db.engines import Databases
from buildapi.db.queries.live import BranchFilter
from buildapi.db.queries.selfserve import builds_of_day, builds_of_revision
from buildapi.db.schema.buildapi import jobrequests
from buildapi.db.setup import init_databases
from buildapi.farm.bigday import BigDay, write_big_day
from buildapi.layout import load_layout
from buildapi.selfserve import shapes
from buildapi.times import midnight
from tests.conftest import broker_names, make_client

DATE = datetime.date(2026, 3, 10)
JOBS = 3000
BRANCH = BranchFilter("mozilla-inbound", "integration/mozilla-inbound")
DAY = "/self-serve/mozilla-inbound?date=2026-03-10"
BROWSER = {"Accept": "text/html"}
DASH = "\u2013"  # the pages' en dash between the first and last row shown


class BigSite:
    def __init__(self, client: httpx.Client, databases: Databases, start: int, end: int) -> None:
        self.client, self.databases, self.start, self.end = client, databases, start, end


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BigSite]:
    settings = load_settings(data_dir=tmp_path_factory.mktemp("bigday"), **broker_names())
    databases = Databases.from_settings(settings)
    init_databases(databases)
    layout = load_layout(settings)
    start = midnight(DATE, settings.zone, "date")
    end = midnight(DATE, settings.zone, "date", days_later=1)
    builders = sorted(layout.builders_for_branch("mozilla-inbound"))
    write_big_day(databases, BigDay(BRANCH.repo_path, builders, start, end, JOBS))
    with databases.buildapi_db.begin() as connection:
        for number in range(5):
            connection.execute(
                insert(jobrequests).values(
                    action="cancel_request" if number % 2 else "rebuild_build",
                    who="alice@example.org",
                    when=1000 + number,
                    what=json.dumps({"n": number}),
                    branch="mozilla-inbound",
                    state="recorded",
                    attempts=0,
                )
            )
    with make_client(settings, databases, layout) as client:
        yield BigSite(client, databases, start, end)
    databases.dispose()


def page(site: BigSite, query: str = "", path: str = DAY) -> str:
    response = site.client.get(path + query, headers=BROWSER)
    assert response.status_code == 200, response.text
    return response.text


def row_count(html: str) -> int:
    return len(re.findall(r"<tr>\s*<td>", html))


def test_the_first_page_has_a_page_of_rows_and_one_form_for_them(site: BigSite) -> None:
    html = page(site)
    assert f"Rows 1{DASH}200 of 3,000" in html
    assert row_count(html) == 200
    assert html.count('method="post"') == 1  # the row form; the others are GET forms
    assert html.count('form="rows"') == html.count('<button type="submit" form=')
    assert 'rel="next"' in html and 'rel="prev"' not in html


def test_the_next_page_continues_where_the_first_ended(site: BigSite) -> None:
    first, second = page(site, "&per_page=50"), page(site, "&per_page=50&page=2")
    assert f"Rows 51{DASH}100 of 3,000" in second and 'rel="prev"' in second
    ids = re.compile(r"/(?:request|build)/(\d+)\">")
    assert not set(ids.findall(first)) & set(ids.findall(second))


def test_filters_narrow_the_rows(site: BigSite) -> None:
    html = page(site, "&result=failure&per_page=1000")
    results = re.findall(r'<td class="result\d*">([^<]*)</td>', html)
    assert results and set(results) == {"Failure"}
    with site.databases.schedulerdb.connect() as connection:
        built, _ = builds_of_day(connection, BRANCH, site.start, site.end)
    failed = sum(1 for b in built if b.finish_time is not None and b.request.results == 2)
    assert f"of {failed:,}" in html

    linux = page(site, "&platform=linux64&state=finished&builder=opt")
    names = re.findall(r'/reports/builder/[^"]+">([^<]+)</a>', linux)
    assert names and all("opt" in name.lower() for name in names)
    assert 'Pending <span class="summary">(0)' in linux


def test_sorting_is_done_on_the_server(site: BigSite) -> None:
    html = page(site, "&state=finished&sort=builder&per_page=300")
    names = re.findall(r'/reports/builder/[^"]+">([^<]+)</a>', html)
    assert len(names) == 300 and names == sorted(names)
    assert 'aria-sort="ascending"' in html and "sort=-builder" in html
    descending = re.findall(
        r'/reports/builder/[^"]+">([^<]+)</a>', page(site, "&state=finished&sort=-builder")
    )
    assert descending == sorted(descending, reverse=True) and descending[0] >= names[-1]


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("&page=-1", "page"),
        ("&page=0", "page"),
        ("&per_page=100000", "per_page"),
        ("&page=x", "page"),
        ("&result=bogus", "'result'"),
        ("&state=done", "'state'"),
        ("&sort=colour", "'sort'"),
    ],
)
def test_bad_table_parameters_are_400_with_a_message(site: BigSite, query: str, named: str) -> None:
    response = site.client.get(DAY + query, headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert response.json()["status"] == "FAILED" and named in response.json()["msg"]


def test_an_unknown_platform_is_404_naming_the_known_ones(site: BigSite) -> None:
    response = site.client.get(DAY + "&platform=amiga", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert "'amiga' is not one of mozilla-inbound's: " in response.json()["msg"]
    assert "linux64" in response.json()["msg"]


def test_the_json_still_lists_every_item(site: BigSite) -> None:
    with site.databases.schedulerdb.connect() as connection:
        expected = shapes.job_list(*builds_of_day(connection, BRANCH, site.start, site.end))
    listed = site.client.get(DAY + "&format=json").json()
    assert len(listed) == JOBS and listed == expected
    # The page's parameters are the HTML's: the JSON is the same with them.
    assert site.client.get(DAY + "&format=json&page=3&per_page=5&state=pending").json() == expected


def test_the_revision_page_shows_its_push_and_guards_the_cancel(site: BigSite) -> None:
    html = page(site, "&state=running&per_page=1")
    revision = re.search(r"/rev/([0-9a-f]{40})\"", html).group(1)  # type: ignore[union-attr]
    path = f"/self-serve/mozilla-inbound/rev/{revision}"
    shown = page(site, "", path)
    assert f"https://hg.mozilla.org/integration/mozilla-inbound/rev/{revision}" in shown
    assert re.search(r'<pre class="comments">Bug \d+ - change number', shown)
    assert "/user/" in shown.split('<section class="push">')[1].split("</section>")[0]
    guarded = re.search(r'<form [^>]*class="guarded"[^>]*>.*?</form>', shown, re.S)
    assert guarded is not None
    assert 'type="checkbox" name="sure" required' in guarded.group(0)
    with site.databases.schedulerdb.connect() as connection:
        items = shapes.job_list(*builds_of_revision(connection, BRANCH, revision))
    stopped = shapes.cancellable(items)
    assert stopped["builds"] > 0
    assert (
        f'data-confirm="Cancel {stopped["requests"]} pending requests and '
        f"{stopped['builds']} running builds of revision {revision[:12]}?"
    ) in guarded.group(0)
    assert site.client.get(path + "?format=json&per_page=1").json() == items
    assert f"Rows 1{DASH}1 of" in page(site, "?per_page=1", path)


def test_the_job_history_pages_and_filters(site: BigSite) -> None:
    html = page(site, "?num=2", "/self-serve/jobs")
    assert f"Rows 1{DASH}2 of 5" in html and 'rel="next"' in html
    assert re.search(r'href="[^"]*num=2&amp;offset=2"', html)
    last = page(site, "?num=2&offset=4", "/self-serve/jobs")
    assert f"Rows 5{DASH}5 of 5" in last and 'rel="next"' not in last and 'rel="prev"' in last
    filtered = page(site, "?action=cancel_request&branch=&state=", "/self-serve/jobs")
    assert f"Rows 1{DASH}2 of 2" in filtered
    # An untouched form field is no filter, in the JSON too.
    assert len(site.client.get("/self-serve/jobs?format=json&action=").json()) == 5
