"""Self-serve reads over a busy farm: legacy keys and types, folding, completeness, bad input."""

from __future__ import annotations

import datetime
import json
import re
from html.parser import HTMLParser

import httpx
import pytest
from sqlalchemy import insert

from buildapi.config import Settings
from buildapi.db.schema.buildapi import jobrequests
from buildapi.farm.farm import Farm
from buildapi.vocabulary import Result
from tests.api.statements import sent_statements
from tests.tokens import make_token
from tests.unit.farm.invariants import rows

JSON = {"Accept": "application/json"}
REQUEST_KEYS = {
    "request_id", "buildername", "branch", "revision", "submittime", "complete", "complete_at",
    "priority", "claimed_at", "reason",
}  # fmt: skip
BUILD_KEYS = {
    "build_id", "buildnumber", "buildername", "branch", "revision", "starttime", "endtime",
    "status", "claimed_by_name", "requests",
}  # fmt: skip


def farm_day(settings: Settings, farm: Farm) -> str:
    return datetime.datetime.fromtimestamp(farm.clock.now(), settings.zone).date().isoformat()


def check_item(item: dict) -> None:
    if "build_id" in item:
        assert set(item) == BUILD_KEYS
        assert item["requests"] and all(set(r) == REQUEST_KEYS for r in item["requests"])
    else:
        assert set(item) == REQUEST_KEYS
        assert item["claimed_at"] == 0 and item["complete"] == 0


def test_branches_are_the_layout(farm_client: httpx.Client, busy_farm: Farm) -> None:
    branches = farm_client.get("/self-serve/branches", headers=JSON).json()
    assert set(branches) == set(busy_farm.layout.branches)
    assert branches["mozilla-inbound"]["repo"].endswith("/integration/mozilla-inbound")


def test_day_view(farm_client: httpx.Client, busy_farm: Farm, live_settings: Settings) -> None:
    day = farm_day(live_settings, busy_farm)
    items = farm_client.get(f"/self-serve/mozilla-inbound?date={day}", headers=JSON).json()
    assert items
    for item in items:
        check_item(item)
        assert item["branch"] == "integration/mozilla-inbound"
    kinds = ["build_id" in item for item in items]
    assert kinds == sorted(kinds, reverse=True), "builds come before pending requests"
    assert any(len(item.get("requests", [])) > 1 for item in items), "merged builds fold"
    empty = farm_client.get("/self-serve/mozilla-inbound?date=2001-01-01", headers=JSON)
    assert empty.status_code == 200 and empty.json() == []


def test_build_and_request(farm_client: httpx.Client, busy_farm: Farm) -> None:
    (build_id, brid), *_ = rows(
        busy_farm.databases.schedulerdb,
        "SELECT b.id, br.id FROM builds b JOIN buildrequests br ON br.id = b.brid "
        "JOIN buildsets bs ON bs.id = br.buildsetid JOIN sourcestamps ss "
        "ON ss.id = bs.sourcestampid WHERE ss.branch = 'integration/mozilla-inbound' "
        "ORDER BY b.id LIMIT 1",
    )
    build = farm_client.get(f"/self-serve/mozilla-inbound/build/{build_id}", headers=JSON).json()
    assert set(build) == BUILD_KEYS and build["build_id"] == build_id
    (request,) = build["requests"]
    assert set(request) == REQUEST_KEYS | {"properties"}
    assert {"buildid", "builduid", "branch", "scheduler"} <= set(request["properties"])
    assert request["properties"]["branch"] == "mozilla-inbound"
    found = farm_client.get(f"/self-serve/mozilla-inbound/request/{brid}", headers=JSON).json()
    assert set(found) == REQUEST_KEYS | {"properties", "build_ids"}
    assert build_id in found["build_ids"] and found["build_ids"] == sorted(found["build_ids"])
    elsewhere = farm_client.get(f"/self-serve/try/request/{brid}", headers=JSON)
    assert elsewhere.status_code == 404
    assert elsewhere.json()["msg"] == f"Request {brid} not found on branch try"


def test_revision_and_is_done(farm_client: httpx.Client, busy_farm: Farm) -> None:
    revisions = rows(
        busy_farm.databases.schedulerdb,
        "SELECT ss.revision, MIN(br.complete), MAX(CASE WHEN br.results IN (0, 5) THEN 0 "
        "ELSE 1 END) FROM buildrequests br JOIN buildsets bs ON bs.id = br.buildsetid "
        "JOIN sourcestamps ss ON ss.id = bs.sourcestampid "
        "WHERE ss.branch = 'integration/mozilla-inbound' GROUP BY ss.revision",
    )
    assert {row[1] for row in revisions} == {0, 1}, "need finished and unfinished revisions"
    for revision, complete, failed in revisions[:12]:
        items = farm_client.get(
            f"/self-serve/mozilla-inbound/rev/{revision[:12]}", headers=JSON
        ).json()
        assert {item["revision"] for item in items} == {revision}
        verdict = farm_client.get(
            f"/self-serve/mozilla-inbound/rev/{revision}/is_done", headers=JSON
        ).json()
        assert verdict == {
            "stableDelay": 180,
            "job_complete": bool(complete),
            "job_passed": bool(complete) and not failed,
        }


def test_user_and_builders(farm_client: httpx.Client, busy_farm: Farm) -> None:
    ((author,),) = rows(
        busy_farm.databases.schedulerdb,
        "SELECT author FROM changes WHERE branch = 'integration/mozilla-inbound' LIMIT 1",
    )
    found = farm_client.get(f"/self-serve/mozilla-inbound/user/{author}", headers=JSON).json()
    assert set(found) == {"builds", "running", "pending"}
    assert all(b["endtime"] is not None for b in found["builds"])
    assert all(b["endtime"] is None for b in found["running"])
    assert sum(map(len, found.values())) > 0
    names = farm_client.get("/self-serve/mozilla-inbound/builders", headers=JSON).json()
    assert names == sorted(busy_farm.layout.builders_for_branch("mozilla-inbound"))


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/self-serve/nowhere", 404, "Branch nowhere not found"),
        ("/self-serve/mozilla-inbound?date=2026-02-30", 400, "date must be YYYY-MM-DD"),
        ("/self-serve/mozilla-inbound/build/abc", 400, "build_id"),
        ("/self-serve/mozilla-inbound/build/99999999999", 400, "build_id"),
        ("/self-serve/mozilla-inbound/build/2147483647", 404, "Build 2147483647 not found"),
        ("/self-serve/mozilla-inbound/request/-1", 400, "request_id"),
        ("/self-serve/mozilla-inbound/rev/xyz", 400, "12 to 40 hexadecimal"),
        ("/self-serve/mozilla-inbound/rev/abc%25def01234", 400, "12 to 40 hexadecimal"),
        ("/self-serve/mozilla-inbound/rev/000000000000", 404, "Revision 000000000000 not found"),
        ("/self-serve/mozilla-inbound/rev/000000000000/is_done?stableDelay=x", 400, "stableDelay"),
        ("/self-serve/jobs?num=0", 400, "num"),
        ("/self-serve/jobs?offset=-1", 400, "offset"),
        ("/self-serve/jobs/abc", 400, "job_id"),
        ("/self-serve/jobs/12345", 404, "Job 12345 not found"),
        ("/self-serve/nowhere/builders", 404, "Branch nowhere not found"),
    ],
)
def test_bad_input(farm_client: httpx.Client, path: str, status: int, message: str) -> None:
    response = farm_client.get(path, headers=JSON)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == "FAILED" and message in body["msg"]


@pytest.fixture(scope="module")
def jobs(busy_farm: Farm) -> list[int]:
    entries = [
        ("cancel_request", "alice@example.org", 100, {"brid": 3}, None, "try"),
        ("rebuild_build", "bob@example.org", 200, {"bid": 5, "count": 2}, {"msg": "Ok"}, "try"),
        ("cancel_request", "bob@example.org", 300, {"brid": 9}, None, "ash"),
    ]
    with busy_farm.databases.buildapi_db.begin() as connection:
        for action, who, when, what, done, branch in entries:
            connection.execute(
                insert(jobrequests).values(
                    action=action,
                    who=who,
                    when=when,
                    what=json.dumps(what),
                    branch=branch,
                    complete_data=json.dumps(done) if done else None,
                    state="recorded",
                    completed_at=when + 5 if done else None,
                    attempts=0,
                )
            )
    return [row[0] for row in rows(busy_farm.databases.buildapi_db, "SELECT id FROM jobrequests")]


def test_jobs(farm_client: httpx.Client, busy_farm: Farm, jobs: list[int]) -> None:
    # a token holder sees who made each job (tests/api/test_policy.py: anonymous readers)
    token = make_token(busy_farm.databases, "reader@example.org")
    signed_in = {"Accept": "application/json", "Authorization": f"Bearer {token}"}
    listed = farm_client.get("/self-serve/jobs", headers=signed_in).json()
    assert [job["who"] for job in listed] == [
        "bob@example.org",
        "bob@example.org",
        "alice@example.org",
    ]
    assert [job["when"] for job in listed] == [300, 200, 100]
    assert set(listed[0]) == {
        "id",
        "action",
        "who",
        "when",
        "completed_at",
        "complete_data",
        "what",
    }
    assert listed[1]["what"] == {"bid": 5, "count": 2} and listed[1]["complete_data"] == {
        "msg": "Ok"
    }
    bob = farm_client.get(
        "/self-serve/jobs?who=bob@example.org&num=1&offset=1", headers=signed_in
    ).json()
    assert [job["when"] for job in bob] == [200]
    cancels = farm_client.get(
        "/self-serve/jobs?action=cancel_request&branch=ash", headers=signed_in
    )
    assert [job["when"] for job in cancels.json()] == [300]
    one = farm_client.get(f"/self-serve/jobs/{listed[0]['id']}", headers=signed_in).json()
    assert one == listed[0]


def test_pages(farm_client: httpx.Client, busy_farm: Farm, jobs: list[int]) -> None:
    index = farm_client.get("/self-serve").text
    for path in ("/self-serve/{branch}/rev/{revision}/is_done", "/self-serve/jobs/{job_id}"):
        assert f"<code>{path}</code>" in index
    ((revision,),) = rows(
        busy_farm.databases.schedulerdb,
        "SELECT ss.revision FROM sourcestamps ss JOIN buildsets bs ON bs.sourcestampid = ss.id "
        "JOIN buildrequests br ON br.buildsetid = bs.id WHERE br.complete = 1 "
        "AND ss.branch = 'integration/mozilla-inbound' LIMIT 1",
    )
    page = farm_client.get(f"/self-serve/mozilla-inbound/rev/{revision}").text
    assert "Job Complete?" in page and "Job Passed?" in page
    assert 'id="builds"' in page and 'name="build_id"' in page
    job_page = farm_client.get(f"/self-serve/jobs/{jobs[0]}").text
    assert f"<title>Job {jobs[0]} status detail</title>" in job_page
    assert "<pre>" in job_page and 'http-equiv="refresh"' in job_page
    done_page = farm_client.get(f"/self-serve/jobs/{jobs[1]}").text
    assert 'http-equiv="refresh"' not in done_page
    lookup = farm_client.get(f"/self-serve/mozilla-inbound?rev={revision[:12]}")
    assert lookup.status_code == 302
    assert lookup.headers["location"] == f"/self-serve/mozilla-inbound/rev/{revision[:12]}"


def test_queries_do_not_grow_with_the_rows(
    farm_client: httpx.Client, busy_farm: Farm, live_settings: Settings
) -> None:
    """No N+1: each view sends a fixed, small number of statements however many rows."""
    ((revision,),) = rows(
        busy_farm.databases.schedulerdb,
        "SELECT ss.revision FROM sourcestamps ss JOIN buildsets bs ON bs.sourcestampid = ss.id "
        "JOIN buildrequests br ON br.buildsetid = bs.id "
        "WHERE ss.branch = 'integration/mozilla-inbound' "
        "GROUP BY ss.revision ORDER BY COUNT(*) DESC LIMIT 1",
    )
    ((build_id, brid),) = rows(
        busy_farm.databases.schedulerdb, "SELECT id, brid FROM builds LIMIT 1"
    )
    day = farm_day(live_settings, busy_farm)
    budget = {
        f"/self-serve/mozilla-inbound?date={day}": 2,
        f"/self-serve/mozilla-inbound/rev/{revision}": 3,
        f"/self-serve/mozilla-inbound/rev/{revision}/is_done": 3,
        f"/self-serve/mozilla-inbound/build/{build_id}": 2,
        f"/self-serve/mozilla-inbound/request/{brid}": 3,
        f"/revision/mozilla-inbound/{revision}": 3,
        "/self-serve/mozilla-inbound/user/nobody@example.org": 2,
        "/recent?numbuilds=200": 2,
        "/pushes?fromtime=0": 1,
    }
    for path, allowed in budget.items():
        with sent_statements(busy_farm.databases.schedulerdb, busy_farm.databases.statusdb) as seen:
            response = farm_client.get(f"{path}{'&' if '?' in path else '?'}q=count", headers=JSON)
        assert response.status_code in (200, 404), path
        assert len(seen) <= allowed, f"{path}: {len(seen)} statements"


class PageText(HTMLParser):
    """The text of a page and of its first `<pre>`, as a scraper (BeautifulSoup's `.text` and
    `.find('pre').text`) sees them."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.pre: str | None = None
        self._in_pre = False
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self._in_pre = tag == "pre" and self.pre is None

    def handle_endtag(self, tag: str) -> None:
        self._in_pre = False

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        if self._in_pre:
            self.pre = (self.pre or "") + data

    @property
    def text(self) -> str:
        return "".join(self.parts)


SCRIPT_ACCEPTS = [{"Accept": "*/*"}, {"Accept": "text/plain"}, {}]


@pytest.mark.parametrize("headers", SCRIPT_ACCEPTS, ids=["any", "text-plain", "none"])
def test_a_script_reads_the_whole_text_of_a_plain_endpoint_as_json(
    farm_client: httpx.Client, busy_farm: Farm, headers: dict[str, str]
) -> None:
    """autoland's job_is_done and build_info: `json.loads(page.text)`, no format, `*/*`."""
    (build_id, revision), *_ = rows(
        busy_farm.databases.schedulerdb,
        "SELECT b.id, ss.revision FROM builds b JOIN buildrequests br ON br.id = b.brid "
        "JOIN buildsets bs ON bs.id = br.buildsetid JOIN sourcestamps ss "
        "ON ss.id = bs.sourcestampid WHERE ss.branch = 'integration/mozilla-inbound' "
        "ORDER BY b.id LIMIT 1",
    )
    for path in (
        f"/self-serve/mozilla-inbound/build/{build_id}",
        f"/self-serve/mozilla-inbound/rev/{revision[:12]}/is_done",
        f"/self-serve/mozilla-inbound/request/{build_id}/nonsense",
    ):
        answer = farm_client.get(path, headers=headers)
        assert answer.headers["content-type"].startswith("text/html")
        assert answer.text.startswith("<pre>") and answer.text.endswith("</pre>")
        read = json.loads(PageText(answer.text).text)
        wanted = farm_client.get(path, headers=JSON)
        assert (answer.status_code, read) == (wanted.status_code, wanted.json())


def test_a_script_reads_a_404_from_the_pre_of_the_page(farm_client: httpx.Client) -> None:
    """autoland on a 404: `json.loads(page.find('pre').text)`."""
    path = "/self-serve/mozilla-inbound/build/2147483647"
    answer = farm_client.get(path, headers={})
    assert answer.status_code == 404
    read = json.loads(PageText(answer.text).pre or "")
    assert read["status"] == "FAILED" and read == farm_client.get(path, headers=JSON).json()


@pytest.mark.parametrize(
    "headers",
    [{"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}, {"Accept": "*/*"}],
    ids=["browser", "script"],
)
def test_pages_of_their_own_stay_site_pages(
    farm_client: httpx.Client, busy_farm: Farm, headers: dict[str, str]
) -> None:
    """A page legacy had a template for (a revision's, whose tables scripts scrape) stays the
    site page for scripts; browsers get site pages everywhere."""
    (revision,), *_ = rows(
        busy_farm.databases.schedulerdb,
        "SELECT revision FROM sourcestamps WHERE branch = 'integration/mozilla-inbound'",
    )
    page = farm_client.get(f"/self-serve/mozilla-inbound/rev/{revision[:12]}", headers=headers)
    assert page.status_code == 200 and page.text.lstrip().lower().startswith("<!doctype html>")
    if "text/html" in headers["Accept"]:  # after a script's visit, cached apart from it
        is_done = f"/self-serve/mozilla-inbound/rev/{revision[:12]}/is_done"
        assert farm_client.get(is_done, headers={"Accept": "*/*"}).text.startswith("<pre>")
        page = farm_client.get(is_done, headers=headers)
        assert page.text.lstrip().lower().startswith("<!doctype html>")


def test_format_html_is_the_site_page_whatever_the_accept(farm_client: httpx.Client) -> None:
    answer = farm_client.get("/self-serve/branches?format=html", headers={"Accept": "*/*"})
    assert answer.status_code == 200 and answer.text.lstrip().lower().startswith("<!doctype")


BROWSER = {"Accept": "text/html"}


def result_cells(page: str, build_id: int) -> list[str]:
    """The Result cell of a build's row in a self-serve table."""
    row = next((row for row in page.split("<tr") if f'/build/{build_id}"' in row), None)
    assert row is not None, f"build {build_id} is not on the page"
    return re.findall(r'<td class="result[^"]*">([^<]*)</td>', row)


def test_pages_show_a_retried_builds_own_result(farm_client: httpx.Client, busy_farm: Farm) -> None:
    """A build that ended in RETRY shows as Retry on its page, its revision's pages and
    /revision, though the JSON keeps legacy's value: its request's result."""
    retried = rows(
        busy_farm.databases.schedulerdb,
        "SELECT b.id, ss.revision FROM builds b JOIN builds later ON later.brid = b.brid "
        "AND later.id > b.id JOIN buildrequests br ON br.id = b.brid JOIN buildsets bs "
        "ON bs.id = br.buildsetid JOIN sourcestamps ss ON ss.id = bs.sourcestampid "
        "WHERE ss.branch = 'integration/mozilla-inbound' AND br.complete = 1 "
        "AND b.finish_time IS NOT NULL ORDER BY b.id",
    )
    assert retried, "the busy farm retries some builds"
    build_id, revision = retried[0]
    base = "/self-serve/mozilla-inbound"
    as_json = farm_client.get(f"{base}/build/{build_id}", headers=JSON).json()
    assert as_json["status"] != Result.RETRY  # the request ran again and ended otherwise
    page = farm_client.get(f"{base}/build/{build_id}", headers=BROWSER).text
    assert re.search(r"<dt>Result</dt><dd><span[^>]*>Retry</span>", page)
    assert result_cells(
        farm_client.get(f"{base}/rev/{revision}", headers=BROWSER).text, build_id
    ) == ["Retry"]
    legacy = farm_client.get(f"/revision/mozilla-inbound/{revision}", headers=BROWSER).text
    assert "Retry" in re.findall(r'<td class="result[^"]*">([^<]*)</td>', legacy)
    legacy_json = farm_client.get(f"/revision/mozilla-inbound/{revision}", headers=JSON).json()
    assert Result.RETRY not in {item["results"] for item in all_items(legacy_json["all"])}


def all_items(tree: dict) -> list[dict]:
    return [item for revisions in tree.values() for items in revisions.values() for item in items]


@pytest.mark.parametrize(
    ("branch", "repo", "offered"),
    [
        ("mozilla-inbound", "integration/mozilla-inbound", {"New PGO build"}),
        ("try", "try", set()),
    ],
)
def test_a_revision_page_offers_only_the_builds_its_branch_has(
    farm_client: httpx.Client, busy_farm: Farm, branch: str, repo: str, offered: set[str]
) -> None:
    """mozilla-inbound has no nightly builders and try neither nightly nor PGO ones: their
    buttons would only lead to a 400."""
    (revision,), *_ = rows(
        busy_farm.databases.schedulerdb,
        f"SELECT revision FROM sourcestamps WHERE branch = '{repo}'",
    )
    page = farm_client.get(f"/self-serve/{branch}/rev/{revision[:12]}", headers=BROWSER).text
    buttons = {label for label in ("New PGO build", "New nightly") if label in page}
    assert buttons == offered
    assert "New dep build" in page
