"""The shared layout renders in a real browser without console errors."""

from __future__ import annotations

import pytest

from tests.pages.conftest import screenshot


@pytest.mark.parametrize(("path", "heading"), [("/", "BuildAPI"), ("/no-such-page", "Error 404")])
def test_page_loads_cleanly(page, base_url: str, path: str, heading: str) -> None:  # type: ignore[no-untyped-def]
    response = page.goto(base_url + path)
    assert response is not None
    assert page.locator("h1").first.inner_text() == heading
    stylesheet = page.evaluate("getComputedStyle(document.querySelector('header.top')).display")
    assert stylesheet == "flex", "the app's stylesheet did not load"
    name = "landing" if path == "/" else "error-404"
    assert screenshot(page, name).stat().st_size > 0
    errors = [text for text in page.console_errors if "404" not in text or path == "/"]
    assert errors == []


def test_landing_links_reach_served_pages(page, base_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base_url + "/")
    page.get_by_role("link", name="Health").last.click()
    assert "Health" in page.title()
    assert page.locator("#checks td.yes", has_text="ok").count() >= 4
