"""Every link of the live and self-serve pages leads somewhere: each same-site href answers
below 400, and the pages render without console errors."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import pytest

from tests.pages.conftest import screenshot

JSON = {"Accept": "application/json"}


def json_of(page, base_url: str, path: str):  # type: ignore[no-untyped-def]
    answer = page.request.get(base_url + path, headers=JSON)
    assert answer.status == 200, path
    return answer.json()


def first_running(page, base_url: str) -> tuple[str, dict]:  # type: ignore[no-untyped-def]
    for branch, revisions in json_of(page, base_url, "/running")["running"].items():
        if branch != "Unknown":
            return branch, next(iter(revisions.values()))[0]
    pytest.skip("nothing runs in this history")


def family_paths(page, base_url: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """One page of each family, found through the JSON of the live views."""
    branch, build = first_running(page, base_url)
    recent = json_of(page, base_url, "/recent")
    built = json_of(page, base_url, f"/self-serve/{branch}/build/{build['id']}")
    who = built["requests"][0]["properties"].get("who", "nobody@example.com")
    return {
        "pending": "/pending",
        "running": "/running",
        "recent": "/recent",
        "recent-slave": f"/recent/{recent[0]['slavename']}",
        "build": f"/self-serve/{branch}/build/{build['id']}",
        "request": f"/self-serve/{branch}/request/{build['request_ids'][0]}",
        "user": f"/self-serve/{branch}/user/{who}",
        "builders": f"/self-serve/{branch}/builders?revision={build['revision'][:12]}",
        "branches": "/self-serve/branches",
        "health": "/healthz",
        "selfserve": "/self-serve",
    }


def same_site_links(page, base_url: str) -> set[str]:  # type: ignore[no-untyped-def]
    """The page's hrefs on this server: external changesets, masters and mailto are left out."""
    here = page.url
    links = page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))")
    absolute = {urljoin(here, href).split("#")[0] for href in links}
    server = urlsplit(base_url).netloc
    return {link for link in absolute if urlsplit(link).netloc == server}


FAMILIES = [
    "pending", "running", "recent", "recent-slave", "build", "request", "user", "builders",
    "branches", "health", "selfserve",
]  # fmt: skip


@pytest.mark.parametrize("family", FAMILIES)
def test_every_link_resolves(page, base_url: str, family: str) -> None:  # type: ignore[no-untyped-def]
    path = family_paths(page, base_url)[family]
    response = page.goto(base_url + path)
    assert response is not None and response.status == 200, path
    assert page.locator("nav.crumbs a").first.inner_text() == "Home"
    screenshot(page, f"links-{family}")
    links = same_site_links(page, base_url)
    assert links, f"{path} links nowhere"
    broken = {}
    for link in sorted(links):
        status = page.request.get(link, headers={"Accept": "text/html"}).status
        if status >= 400:
            broken[link] = status
    assert broken == {}
    assert page.console_errors == []
