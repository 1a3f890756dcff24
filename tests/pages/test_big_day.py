"""A day of 30,000 jobs in a browser: the first page comes quickly with one form for its rows,
paging, filters and sorting go through the server, and cancelling a revision asks first."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from buildapi.cli import main
from tests.pages.conftest import screenshot
from tests.processes import free_port, running

DAY = "/self-serve/mozilla-inbound"


@pytest.fixture(scope="module")
def big_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("big-day")
    assert main(["db", "init", "--data-dir", str(data)]) == 0
    bigday = ["farm", "bigday", "--branch", "mozilla-inbound", "--jobs", "30000"]
    assert main([*bigday, "--date", "2026-03-10", "--data-dir", str(data)]) == 0
    port = free_port()
    with running(["web", "--port", str(port), "--data-dir", str(data)]):
        yield f"http://127.0.0.1:{port}"


def test_a_big_day_pages_filters_and_sorts_on_the_server(page, big_site: str) -> None:  # type: ignore[no-untyped-def]
    # How fast is measured in bench/README.md, not here: this machine may be busy.
    response = page.goto(f"{big_site}{DAY}?date=2026-03-10")
    assert response is not None and response.status == 200
    assert page.locator(".pager").first.inner_text().startswith("Rows 1\u2013200 of 30,000")
    assert page.locator("form[method=post]").count() == 1
    assert page.locator("tbody tr").count() == 200
    screenshot(page, "big-day-first-page")

    page.locator("a[rel=next]").first.click()
    page.wait_for_url(re.compile(r"page=2"))
    assert page.locator(".pager").first.inner_text().startswith("Rows 201\u2013400 of 30,000")

    page.select_option("select[name=result]", "failure")
    page.click("form.filters button")
    page.wait_for_url(re.compile(r"result=failure"))
    results = page.locator("#builds td[class^=result]").all_inner_texts()
    assert results and set(results) == {"Failure"}
    assert "of 30,000" not in page.locator(".pager").first.inner_text()

    page.locator("#builds th a", has_text="Builder").click()
    page.wait_for_url(re.compile(r"sort=builder"))
    names = page.locator("#builds td:nth-child(2) a").all_inner_texts()
    assert names == sorted(names) and len(names) > 1
    assert page.locator("#builds th[aria-sort=ascending]").inner_text() == "Builder"
    screenshot(page, "big-day-filtered-sorted")
    assert page.console_errors == []


def test_cancelling_a_revision_asks_how_many_first(page, big_site: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{big_site}{DAY}?date=2026-03-10&state=running&per_page=1")
    page.locator("#running a.revision").first.click()
    page.wait_for_url(re.compile(r"/rev/[0-9a-f]{40}$"))
    revision_url = page.url
    asked: list[str] = []

    def refuse(dialog) -> None:  # type: ignore[no-untyped-def]
        asked.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", refuse)
    cancel = page.locator("form.guarded button.danger")
    cancel.click()  # the box is not ticked: the browser refuses the form, no dialog
    assert asked == [] and page.url == revision_url
    page.check("form.guarded input[name=sure]")
    cancel.click()
    assert len(asked) == 1
    assert re.fullmatch(
        r"Cancel \d+ pending requests and [1-9]\d* running builds of revision [0-9a-f]{12}\? .*",
        asked[0],
    )
    assert page.url == revision_url  # dismissed: nothing was sent
    screenshot(page, "revision-cancel-guarded")
    assert page.console_errors == []
