"""The live and self-serve pages render real data in a browser, and their tables sort."""

from __future__ import annotations

import pytest

from tests.pages.conftest import screenshot

PAGES = [
    ("/pending", "Pending builds"),
    ("/running", "Running builds"),
    ("/recent", "Recent builds"),
    ("/pushes?fromtime=0", "Pushes"),
    ("/self-serve", "Self-serve"),
    ("/self-serve/jobs", "Self-serve job history"),
    ("/builddata/buildjson", "JSON dumps"),
]


@pytest.mark.parametrize(("path", "heading"), PAGES)
def test_page_renders_without_errors(page, base_url: str, path: str, heading: str) -> None:  # type: ignore[no-untyped-def]
    response = page.goto(base_url + path)
    assert response is not None and response.status == 200
    assert page.locator("h1").first.inner_text().startswith(heading)
    name = path.strip("/").split("?")[0].replace("/", "-") or "root"
    screenshot(page, name)
    assert page.console_errors == []


def test_recent_table_sorts_by_a_clicked_column(page, base_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base_url + "/recent?numbuilds=50")
    cells = page.locator("#recent tbody tr td:nth-child(3)")
    assert cells.count() > 5
    heading = page.locator("#recent thead th").nth(2)
    heading.click()
    ascending = [int(text) for text in cells.all_inner_texts()]
    assert ascending == sorted(ascending)
    heading.click()
    descending = [int(text) for text in cells.all_inner_texts()]
    assert descending == sorted(ascending, reverse=True)
    assert heading.get_attribute("aria-sort") == "descending"


def test_branch_day_links_to_a_revision_page(page, base_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base_url + "/self-serve/mozilla-inbound")
    assert page.locator("h1").inner_text().startswith("Builds for mozilla-inbound on ")
    revisions = page.locator("td.revision a.revision")
    if revisions.count() == 0:
        pytest.skip("no mozilla-inbound builds today in this history")
    revision = revisions.first.inner_text()
    page.fill("input[name=rev]", revision)
    page.click("form.lookup button")
    assert page.locator("h1").inner_text() == f"Builds for {revision} on mozilla-inbound"
    assert page.locator("table.verdict").inner_text().startswith("Job Complete?")
    screenshot(page, "revision")
    assert page.console_errors == []
