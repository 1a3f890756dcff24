"""The push grid in a browser: it shows the farm's jobs, and a signed-in user cancels a
pending job from its cell's panel; the agent does it and the cell turns cancelled without
the page reloading."""

from __future__ import annotations

import httpx
import pytest

from tests.pages.conftest import USER, Site, screenshot


def a_finished_build(url: str) -> tuple[dict, dict]:
    """(push, job) of a finished build on the newest page of mozilla-inbound's grid."""
    data = httpx.get(f"{url}/self-serve/mozilla-inbound/pushes?format=json&state=finished")
    for push in data.json()["pushes"]:
        for job in push["jobs"]:
            if job["build_id"] is not None and job["result"] != 5:
                return push, job
    pytest.skip("no build has finished in this history")


def test_the_grid_shows_every_job_of_the_page(page, site: Site) -> None:  # type: ignore[no-untyped-def]
    data = httpx.get(f"{site.url}/self-serve/mozilla-inbound/pushes?format=json").json()
    response = page.goto(f"{site.url}/grid/mozilla-inbound")
    assert response is not None and response.status == 200
    assert page.url.endswith("/self-serve/mozilla-inbound/pushes")
    jobs = sum(len(push["jobs"]) for push in data["pushes"])
    assert jobs > 0
    assert page.locator("table.grid a.cell").count() == jobs
    assert page.locator("table.grid tr.push").count() == len(data["pushes"])
    headings = page.locator("table.grid thead th").all_inner_texts()
    assert headings == ["Push", *data["platforms"], "Actions"]
    assert page.console_errors == []
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], "the grid scrolls inside its box, not the page"
    screenshot(page, "grid")


def test_rebuild_then_cancel_from_cells_without_a_reload(browser, site: Site) -> None:  # type: ignore[no-untyped-def]
    """Rebuild a finished build from its cell: the agent adds a pending request, which shows
    up in the push's row; cancel that one from its own cell: it turns cancelled."""
    push, job = a_finished_build(site.url)
    context = browser.new_context(http_credentials={"username": USER, "password": site.token})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        response = page.goto(f"{site.url}/self-serve/mozilla-inbound/pushes")
        assert response is not None and response.status == 200
        loaded: list[str] = []
        page.on("framenavigated", lambda frame: loaded.append(frame.url))
        page.evaluate("window.sameDocument = true")
        row = page.locator(f'tr.push[data-push-id="{push["push_id"]}"]')
        of_builder = f'a.cell[data-builder="{job["buildername"]}"]'
        row.locator(f'{of_builder}[data-build-id="{job["build_id"]}"]').click()
        panel = page.locator("#grid-panel")
        assert panel.locator("h2").inner_text() == job["buildername"]
        assert panel.locator(".panel-state").inner_text() == "finished"
        panel.locator("button", has_text="rebuild").click()
        pending = row.locator(f"{of_builder}.pending")
        pending.wait_for(timeout=30000)
        assert "done" in panel.locator(".panel-status").inner_text()

        request_id = pending.get_attribute("data-request-ids")
        page.keyboard.press("Escape")
        assert panel.is_hidden()
        pending.click()
        assert panel.locator(".panel-state").inner_text() == "pending"
        panel.locator("button", has_text="cancel").click()
        cancelled = row.locator(f'a.cell.result6[data-request-ids="{request_id}"]')
        cancelled.wait_for(timeout=30000)
        assert panel.locator(".panel-result").inner_text() == "cancelled"
        assert page.evaluate("window.sameDocument") is True
        assert loaded == []
        assert errors == []
        screenshot(page, "grid-after-cancel")
    finally:
        context.close()
    url = f"{site.url}/self-serve/mozilla-inbound/request/{request_id}?format=json"
    assert httpx.get(url).json()["complete"] == 1


def test_push_buttons_ask_first_and_cancel_all_cancels_the_push(browser, site: Site) -> None:  # type: ignore[no-untyped-def]
    """A push's "cancel all" and "rebuild" ask before sending: declined, nothing is sent.
    With a pending job added from a cell, an accepted "cancel all" has the agent cancel it,
    and the cell turns cancelled without a reload."""
    push, job = a_finished_build(site.url)
    history = f"{site.url}/self-serve/jobs?format=json&num=1000"
    jobs_before = len(httpx.get(history).json())
    context = browser.new_context(http_credentials={"username": USER, "password": site.token})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    answers = iter(["dismiss", "dismiss", "accept"])
    asked: list[str] = []

    def answer(dialog) -> None:  # type: ignore[no-untyped-def]
        asked.append(dialog.message)
        getattr(dialog, next(answers))()

    page.on("dialog", answer)
    try:
        response = page.goto(f"{site.url}/self-serve/mozilla-inbound/pushes")
        assert response is not None and response.status == 200
        page.evaluate("window.sameDocument = true")
        row = page.locator(f'tr.push[data-push-id="{push["push_id"]}"]')
        buttons = row.locator("td.push-actions button")
        buttons.filter(has_text="cancel all").click()
        buttons.filter(has_text="rebuild").click()
        short = push["revision"][:12]
        assert asked == [
            f"Cancel every pending and running job of {short}?",
            f"Start new builds of {short}?",
        ]
        assert len(httpx.get(history).json()) == jobs_before, "declined, nothing was sent"

        of_builder = f'a.cell[data-builder="{job["buildername"]}"]'
        row.locator(f'{of_builder}[data-build-id="{job["build_id"]}"]').click()
        page.locator("#grid-panel button", has_text="rebuild").click()
        pending = row.locator(f"{of_builder}.pending")
        pending.wait_for(timeout=30000)
        request_id = pending.get_attribute("data-request-ids")
        page.keyboard.press("Escape")
        buttons.filter(has_text="cancel all").click()
        cancelled = row.locator(f'a.cell.result6[data-request-ids="{request_id}"]')
        cancelled.wait_for(timeout=30000)
        assert len(asked) == 3
        assert page.evaluate("window.sameDocument") is True
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], "the answers shown widened the page"
        assert errors == []
        screenshot(page, "grid-push-cancelled")
    finally:
        context.close()
    url = f"{site.url}/self-serve/mozilla-inbound/request/{request_id}?format=json"
    assert httpx.get(url).json()["complete"] == 1
