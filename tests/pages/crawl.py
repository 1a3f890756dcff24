"""A bounded breadth-first crawl of the site from `/`: every same-origin link is fetched, a few
pages of each page family (route template) are opened in the browser, screenshotted and checked
with axe-core.

A family is capped so that the crawl stays cheap however many builds the data holds, and links
are followed in sorted order so that two crawls of the same data visit the same pages."""

from __future__ import annotations

import re
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urldefrag, urlsplit

from buildapi.web.app import ROUTERS
from tests.pages.conftest import screenshot, watch_errors

AXE_JS = (
    Path(__file__).resolve().parents[2] / "src/buildapi/web/vendor/node_modules/axe-core/axe.min.js"
)
# Links checked per family and output format, and pages of a family opened in the browser.
LINKS_PER_FAMILY = 6
PAGES_PER_FAMILY = 2
# Tall pages are kept as their top screens: encoding a 20,000-pixel table costs seconds.
SCREENSHOT_MAX_HEIGHT = 4000
# Impacts that fail the axe check; "minor" and "moderate" are left to review.
BLOCKING_IMPACTS = ("serious", "critical")
UNMATCHED = "unmatched"

# Where the page's links and GET forms lead (a form's action alone shows its empty form).
_LINKS = """() => [
    ...Array.from(document.querySelectorAll('a[href]'), link => link.href),
    ...Array.from(document.forms).filter(form => form.method === 'get').map(form => form.action),
]"""
_RUN_AXE = """() => axe.run(document, {resultTypes: ['violations']}).then(result =>
    result.violations.map(v => ({
        id: v.id,
        impact: v.impact,
        nodes: v.nodes.length,
        targets: v.nodes.slice(0, 3).map(node => node.target.join(' ')),
    })))"""


# The app's GET routes, in the order its router tries them, then FastAPI's own schema route.
_GET_ROUTES = [
    (route.path_format, route.path_regex)
    for router, _ in ROUTERS
    for route in router.routes
    if "GET" in getattr(route, "methods", ())
] + [("/openapi.json", re.compile(r"^/openapi\.json$"))]


def page_families() -> list[str]:
    """Every GET route template of the app."""
    return [template for template, _ in _GET_ROUTES]


def family_of(path: str) -> str:
    """The template of the first GET route that matches `path`, as the router would choose."""
    for template, pattern in _GET_ROUTES:
        if pattern.match(path):
            return template
    return UNMATCHED


def output_format(url: str) -> str | None:
    """The `format` a link asks for (json, csv), or None for the page itself."""
    formats = parse_qs(urlsplit(url).query).get("format")
    return formats[0] if formats else None


def artifact_name(family: str) -> str:
    """Screenshot file name: `/self-serve/{branch}` -> `family-self-serve-branch`."""
    return "family-" + (re.sub(r"[^A-Za-z0-9]+", "-", family).strip("-") or "root")


@dataclass
class Link:
    """One fetched link: where it pointed, which page linked it first, and the answer."""

    url: str
    referrer: str
    status: int
    wanted_format: str | None

    @property
    def ok(self) -> bool:
        """A data link must answer 200 itself; a page may redirect to one that does."""
        return self.status == 200 if self.wanted_format else self.status < 400


@dataclass
class Visit:
    """One page opened in the browser."""

    url: str
    title: str
    headings: int
    errors: list[str]
    violations: list[dict] | None  # axe's, on the first page of a family only
    seconds: float  # to load, screenshot and check: where the crawl's time goes


@dataclass
class Family:
    """What the crawl found of one route template."""

    links: list[Link] = field(default_factory=list)
    visits: list[Visit] = field(default_factory=list)
    not_checked: int = 0  # links past the cap


@dataclass
class Crawl:
    """Families by route template, in the order the crawl first reached them."""

    families: dict[str, Family] = field(default_factory=dict)

    def family(self, template: str) -> Family:
        return self.families.setdefault(template, Family())


def crawl(browser, base_url: str) -> Crawl:  # type: ignore[no-untyped-def]
    """Fetch every same-origin link (and GET form action) reachable from `/`, within the caps
    per family."""
    context = browser.new_context()
    page = context.new_page()
    watch_errors(page)
    try:
        return _crawl(page, base_url)
    finally:
        context.close()


def _crawl(page, base_url: str) -> Crawl:  # type: ignore[no-untyped-def]
    result = Crawl()
    start = base_url + "/"
    seen = {start}
    queue = deque([(start, start)])
    fetched: Counter[tuple[str, str | None]] = Counter()
    while queue:
        url, referrer = queue.popleft()
        template = family_of(urlsplit(url).path)
        family = result.family(template)
        wanted = output_format(url)
        if fetched[template, wanted] >= LINKS_PER_FAMILY:
            family.not_checked += 1
            continue
        fetched[template, wanted] += 1
        response = page.request.get(url)
        family.links.append(Link(url, referrer, response.status, wanted))
        is_html = response.headers.get("content-type", "").startswith("text/html")
        if not (response.ok and is_html and len(family.visits) < PAGES_PER_FAMILY):
            continue
        visit, links = _visit(page, url, first=not family.visits, name=artifact_name(template))
        family.visits.append(visit)
        for link in links:
            if _same_origin(link, base_url) and link not in seen:
                seen.add(link)
                queue.append((link, url))
    return result


def run_axe(page) -> list[dict]:  # type: ignore[no-untyped-def]
    """axe-core's violations on the page, from the copy npm installed (nothing is downloaded)."""
    assert AXE_JS.exists(), f"{AXE_JS} is missing: run `npm ci --prefix src/buildapi/web/vendor`"
    page.add_script_tag(path=str(AXE_JS))
    return page.evaluate(_RUN_AXE)


def _same_origin(url: str, base_url: str) -> bool:
    """Ours to check; the changeset links to the repository, and mailto: links, are not."""
    parts, base = urlsplit(url), urlsplit(base_url)
    return (parts.scheme, parts.netloc) == (base.scheme, base.netloc)


def _visit(page, url: str, first: bool, name: str) -> tuple[Visit, list[str]]:  # type: ignore[no-untyped-def]
    """Open `url`; on a family's first page also keep a screenshot and run axe."""
    started = time.monotonic()
    page.console_errors.clear()
    page.goto(url)
    hrefs = page.evaluate(_LINKS)
    headings = [text for text in page.locator("h1").all_inner_texts() if text.strip()]
    violations = None
    if first:
        screenshot(page, name, max_height=SCREENSHOT_MAX_HEIGHT)
        violations = run_axe(page)
    title = page.title().strip()
    seconds = time.monotonic() - started
    visit = Visit(url, title, len(headings), list(page.console_errors), violations, seconds)
    return visit, sorted({urldefrag(href).url for href in hrefs})
