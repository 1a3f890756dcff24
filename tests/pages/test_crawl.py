"""Every page family reached from `/` by links: its links answer, its pages load without
errors and have a title and a heading, and axe-core finds nothing serious on its first page.

The crawl runs once per module (tests/pages/crawl.py); the tests, parametrized by route
template, only read its results, so a family's problems are reported under its own id."""

from __future__ import annotations

import time

import pytest

from tests.pages.crawl import (
    BLOCKING_IMPACTS,
    UNMATCHED,
    Crawl,
    Family,
    crawl,
    family_of,
    page_families,
    run_axe,
)

# Routes that no page links to by design: probes, metrics, the favicon, the event stream
# (pages open it from script), the grid's short alias.
UNLINKED = {"/favicon.ico", "/metrics", "/livez", "/readyz", "/events", "/grid/{branch}"}
FAMILIES = [family for family in page_families() if family not in UNLINKED]


@pytest.fixture(scope="module")
def site(browser, base_url: str) -> Crawl:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    result = crawl(browser, base_url)
    elapsed = time.monotonic() - started
    visits = [visit for family in result.families.values() for visit in family.visits]
    links = sum(len(family.links) for family in result.families.values())
    print(
        f"\ncrawl: {len(result.families)} families, {links} links fetched, "
        f"{len(visits)} pages opened, {elapsed:.1f}s"
    )
    for visit in sorted(visits, key=lambda visit: -visit.seconds)[:5]:
        print(f"slowest: {visit.seconds:.1f}s {visit.url}")
    for template, family in result.families.items():
        print(
            f"family {template}: {len(family.links)} links fetched, {len(family.visits)} "
            f"opened, {family.not_checked} past the cap"
        )
    for visit in visits:
        for violation in visit.violations or []:
            print(f"axe {violation['impact']}: {violation['id']} on {visit.url}")
    return result


def _reached(site: Crawl, template: str) -> Family:
    assert template in site.families, f"no crawled page links to {template}"
    return site.families[template]


def _opened(site: Crawl, template: str) -> Family:
    family = _reached(site, template)
    if not family.visits:
        pytest.skip(f"{template} answers with data, not an HTML page")
    return family


@pytest.mark.parametrize("template", FAMILIES)
def test_links_of_the_family_answer(site: Crawl, template: str) -> None:
    broken = [
        f"{link.url} -> {link.status} (linked from {link.referrer})"
        for link in _reached(site, template).links
        if not link.ok
    ]
    assert broken == [], "\n".join(broken)


@pytest.mark.parametrize("template", FAMILIES)
def test_pages_of_the_family_load_cleanly(site: Crawl, template: str) -> None:
    problems = [
        f"{visit.url}: {problem}"
        for visit in _opened(site, template).visits
        for problem in (
            [f"console: {error}" for error in visit.errors]
            + ([] if visit.title else ["no <title>"])
            + ([] if visit.headings else ["no <h1>"])
        )
    ]
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("template", FAMILIES)
def test_first_page_of_the_family_passes_axe(site: Crawl, template: str) -> None:
    visit = _opened(site, template).visits[0]
    assert visit.violations is not None
    blocking = [
        f"{v['id']} ({v['impact']}, {v['nodes']} elements): {', '.join(v['targets'])}"
        for v in visit.violations
        if v["impact"] in BLOCKING_IMPACTS
    ]
    assert blocking == [], f"axe on {visit.url}:\n" + "\n".join(blocking)


def test_every_crawled_link_is_a_known_route(site: Crawl) -> None:
    unknown = site.families.get(UNMATCHED, Family()).links
    assert unknown == [], [f"{link.url} (linked from {link.referrer})" for link in unknown]


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/", "/"),
        ("/self-serve/jobs", "/self-serve/jobs"),
        ("/self-serve/try", "/self-serve/{branch}"),
        ("/self-serve/try/build/7", "/self-serve/{branch}/build/{build_id}"),
        ("/reports/builder/Linux%20x86%20opt", "/reports/builder/{name}"),
        ("/openapi.json", "/openapi.json"),
        ("/static/buildapi.css", UNMATCHED),
    ],
)
def test_a_path_belongs_to_the_route_the_router_would_choose(path: str, template: str) -> None:
    assert family_of(path) == template


def test_axe_reports_what_it_is_shown(page) -> None:  # type: ignore[no-untyped-def]
    """The check above is not vacuous: the same script flags an unlabelled field and an image
    without alternative text."""
    page.set_content('<html><body><img src="data:,"><input type="text"></body></html>')
    found = {violation["id"]: violation["impact"] for violation in run_axe(page)}
    assert found.get("image-alt") == "critical"
    assert found.get("label") == "critical"
