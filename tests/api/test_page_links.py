"""The human pages link every id, revision, builder, slave and branch to its own page, keep
their JSON as it was, and carry their action buttons."""

from __future__ import annotations

import html
import json
import re
from urllib.parse import quote

import httpx
import pytest

from buildapi.farm.farm import Farm
from tests.api.test_live import RECENT_KEYS
from tests.unit.farm.invariants import rows

BROWSER = {"Accept": "text/html"}
JSON = {"Accept": "application/json"}


def hrefs(page: str) -> set[str]:
    return set(re.findall(r'href="([^"]+)"', page))


def test_pending_links_and_buttons(farm_client: httpx.Client) -> None:
    data = farm_client.get("/pending", headers=JSON).json()["pending"]
    revision, items = next(iter(data["mozilla-inbound"].items()))
    page = farm_client.get("/pending", headers=BROWSER).text
    found = hrefs(page)
    item = items[0]
    assert f"/self-serve/mozilla-inbound/rev/{revision}" in found
    assert f"/self-serve/mozilla-inbound/request/{item['id']}" in found
    assert f"/reports/builder/{quote(item['buildername'])}" in found
    assert "/self-serve/mozilla-inbound" in found
    at = f"/self-serve/mozilla-inbound/request/{item['id']}"
    assert f'formaction="{at}?_method=DELETE"' in page
    assert f'formaction="{at}?_method=PUT"' in page
    assert f'name="request_id" value="{item["id"]}"' in page
    assert 'name="csrf_token" value="__buildapi_csrf_token__"' not in page


def first_build(farm: Farm, running: bool) -> tuple[int, int, str, str]:
    """A mozilla-inbound build (running or finished): build id, request id, revision, builder."""
    ((build_id, brid, revision, builder),) = rows(
        farm.databases.schedulerdb,
        "SELECT b.id, br.id, ss.revision, br.buildername FROM builds b "
        "JOIN buildrequests br ON br.id = b.brid JOIN buildsets bs ON bs.id = br.buildsetid "
        "JOIN sourcestamps ss ON ss.id = bs.sourcestampid "
        "WHERE ss.branch = 'integration/mozilla-inbound' AND b.finish_time IS "
        + ("NULL" if running else "NOT NULL")
        + " ORDER BY b.id LIMIT 1",
    )
    return build_id, brid, revision, builder


def test_running_links_and_buttons(farm_client: httpx.Client) -> None:
    data = farm_client.get("/running", headers=JSON).json()["running"]
    revision, (item, *_) = next(iter(data["mozilla-inbound"].items()))
    page = farm_client.get("/running", headers=BROWSER).text
    found = hrefs(page)
    assert f"/self-serve/mozilla-inbound/rev/{revision}" in found
    assert f"/self-serve/mozilla-inbound/build/{item['id']}" in found
    assert {f"/self-serve/mozilla-inbound/request/{i}" for i in item["request_ids"]} <= found
    at = f"/self-serve/mozilla-inbound/build/{item['id']}"
    assert f'formaction="{at}?_method=DELETE"' in page
    assert f'name="build_id" value="{item["id"]}"' in page
    assert page.count('<form method="post"') == 1, "one form for the whole table"


def test_recent_links_slaves_and_builders(farm_client: httpx.Client) -> None:
    builds = farm_client.get("/recent", headers=JSON).json()
    assert set(builds[0]) == RECENT_KEYS
    found = hrefs(farm_client.get("/recent", headers=BROWSER).text)
    assert {f"/recent/{b['slavename']}" for b in builds} <= found
    assert {f"/reports/status_builders/{quote(b['buildname'])}" for b in builds} <= found
    slave = farm_client.get(f"/recent/{builds[0]['slavename']}", headers=BROWSER).text
    assert 'aria-label="Breadcrumbs"' in slave and 'href="/recent">Recent builds</a>' in slave


def test_build_page(farm_client: httpx.Client, busy_farm: Farm) -> None:
    build_id, brid, revision, builder = first_build(busy_farm, running=True)
    path = f"/self-serve/mozilla-inbound/build/{build_id}"
    page = farm_client.get(path, headers=BROWSER).text
    assert f"<title>Build {build_id}</title>" in page
    found = hrefs(page)
    assert {
        "/self-serve",
        "/self-serve/mozilla-inbound",
        f"/self-serve/mozilla-inbound/rev/{revision}",
        f"/self-serve/mozilla-inbound/request/{brid}",
        f"/reports/builder/{quote(builder)}",
    } <= found
    assert '<span class="result running">running</span>' in page
    assert f'action="{path}"' in page and 'name="_method" value="DELETE"' in page
    assert 'action="/self-serve/mozilla-inbound/build"' in page  # rebuild
    assert "<time " in page and "<pre>" not in page
    finished, *_ = first_build(busy_farm, running=False)
    done = farm_client.get(f"/self-serve/mozilla-inbound/build/{finished}", headers=BROWSER).text
    assert re.search(r'<span class="result result\d">', done)
    assert 'name="_method" value="DELETE"' not in done, "no cancel for a finished build"


def test_request_page(farm_client: httpx.Client, busy_farm: Farm) -> None:
    build_id, brid, revision, builder = first_build(busy_farm, running=False)
    path = f"/self-serve/mozilla-inbound/request/{brid}"
    page = farm_client.get(path, headers=BROWSER).text
    assert f"<title>Request {brid}</title>" in page
    assert {
        f"/self-serve/mozilla-inbound/build/{build_id}",
        f"/self-serve/mozilla-inbound/rev/{revision}",
        f"/reports/builder/{quote(builder)}",
    } <= hrefs(page)
    assert f'<span aria-current="page">request {brid}</span>' in page
    assert 'action="/self-serve/mozilla-inbound/request"' in page
    assert 'id="properties"' in page
    pending = farm_client.get("/pending/mozilla-inbound", headers=JSON).json()["pending"]
    waiting = next(iter(pending["mozilla-inbound"].values()))[0]["id"]
    page = farm_client.get(f"/self-serve/mozilla-inbound/request/{waiting}", headers=BROWSER)
    assert '<span class="result pending">pending</span>' in page.text
    assert 'name="_method" value="PUT"' in page.text and 'name="priority"' in page.text


def test_user_page(farm_client: httpx.Client, busy_farm: Farm) -> None:
    ((author,),) = rows(
        busy_farm.databases.schedulerdb,
        "SELECT author FROM changes WHERE branch = 'integration/mozilla-inbound' LIMIT 1",
    )
    path = f"/self-serve/mozilla-inbound/user/{author}"
    data = farm_client.get(path, headers=JSON).json()
    page = farm_client.get(path, headers=BROWSER).text
    assert f"<title>Builds of {author} on mozilla-inbound</title>" in page
    found = hrefs(page)
    ids = {b["build_id"] for b in data["builds"] + data["running"]}
    assert {f"/self-serve/mozilla-inbound/build/{i}" for i in ids} <= found
    assert {
        f"/self-serve/mozilla-inbound/request/{r['request_id']}" for r in data["pending"]
    } <= found


def test_builders_page_builds_at_a_chosen_revision(
    farm_client: httpx.Client, busy_farm: Farm
) -> None:
    names = farm_client.get("/self-serve/mozilla-inbound/builders", headers=JSON).json()
    page = farm_client.get("/self-serve/mozilla-inbound/builders", headers=BROWSER).text
    assert "<title>Builders of mozilla-inbound</title>" in page
    assert {f"/reports/builder/{quote(name)}" for name in names} <= hrefs(page)
    assert 'name="revision"' in page and "formaction" not in page
    _, _, revision, _ = first_build(busy_farm, running=False)
    chosen = f"/self-serve/mozilla-inbound/builders?revision={revision[:12]}"
    page = farm_client.get(chosen, headers=BROWSER).text
    target = f"/self-serve/mozilla-inbound/builders/{quote(names[0])}/{revision[:12]}"
    assert f'formaction="{target}"' in page
    assert farm_client.get(chosen, headers=JSON).json() == names
    bad = farm_client.get("/self-serve/mozilla-inbound/builders?revision=xyz", headers=BROWSER)
    assert bad.status_code == 400 and "12 to 40 hexadecimal" in bad.text


def test_branches_page(farm_client: httpx.Client, busy_farm: Farm) -> None:
    data = farm_client.get("/self-serve/branches", headers=JSON).json()
    page = farm_client.get("/self-serve/branches", headers=BROWSER).text
    assert "<title>Branches</title>" in page
    found = hrefs(page)
    assert {f"/self-serve/{name}" for name in data} <= found
    assert {f"/self-serve/{name}/builders" for name in data} <= found
    assert {branch["repo"] for branch in data.values()} <= found


@pytest.mark.parametrize(
    "path",
    [
        "/self-serve/branches",
        "/self-serve/mozilla-inbound/builders",
        "/healthz",
        "/self-serve/mozilla-inbound/user/nobody@example.com",
    ],
)
def test_scripts_still_get_the_bare_json(farm_client: httpx.Client, path: str) -> None:
    answer = farm_client.get(path, headers={"Accept": "*/*"})
    assert answer.text.startswith("<pre>") and answer.text.endswith("</pre>")
    text = html.unescape(answer.text.removeprefix("<pre>").removesuffix("</pre>"))
    wanted = farm_client.get(path + "?format=json").json()
    if path == "/healthz":  # agents' heartbeat ages move between the two answers
        assert json.loads(text)["checks"] == wanted["checks"]
    else:
        assert json.loads(text) == wanted


def test_health_page(farm_client: httpx.Client) -> None:
    answer = farm_client.get("/healthz", headers=BROWSER)
    body = farm_client.get("/healthz", headers=JSON).json()
    assert answer.status_code == 200 and f"<title>Health: {body['status']}</title>" in answer.text
    assert 'id="checks"' in answer.text and "<pre>" not in answer.text
    for name, outcome in body["checks"].items():
        assert re.search(
            rf"<td>{name}</td>.*?<td[^>]*>{re.escape(outcome)}</td>", answer.text, re.S
        )
    assert not re.search(r"(?<![<\w])/(tmp|home|usr|var|work)/", answer.text), "no paths"


def test_the_index_shows_code_in_docs(farm_client: httpx.Client) -> None:
    page = farm_client.get("/self-serve", headers=BROWSER).text
    assert "`" not in page
    assert "<td>Cancel the build <code>build_id</code></td>" in page


def test_the_401_page_explains_tokens(farm_client: httpx.Client) -> None:
    path = "/self-serve/mozilla-inbound/build/1"
    answer = farm_client.delete(path, headers={"Accept": "text/html"})
    assert answer.status_code == 401
    assert "e-mail address" in answer.text and "API token" in answer.text
    assert "buildapi token create --user you@example.com" in answer.text
    assert "API token" in answer.headers["www-authenticate"]
    as_json = farm_client.delete(path, headers=JSON)
    assert as_json.status_code == 401 and set(as_json.json()) == {"status", "msg"}
    assert as_json.json()["status"] == "FAILED"


def test_a_configured_builder_never_requested_has_an_empty_report(
    farm_client: httpx.Client, busy_farm: Farm
) -> None:
    """The builders page links every configured builder's report, requested or not."""
    requested = {
        name
        for (name,) in rows(
            busy_farm.databases.schedulerdb, "SELECT DISTINCT buildername FROM buildrequests"
        )
    }
    idle = sorted(set(busy_farm.layout.builders) - requested)
    assert idle, "the farm's layout has builders this history never requested"
    report = farm_client.get(f"/reports/builder/{quote(idle[0])}", headers=JSON)
    assert report.status_code == 200
    assert report.json()["total_build_requests"] == 0 and report.json()["build_requests"] == []
    assert farm_client.get("/reports/builder/no%20such%20builder").status_code == 404
