"""The self-serve buttons work in a browser: a signed-in user cancels a running build from a
revision page and lands on the job's page (the form carries the CSRF token by itself)."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.pages.conftest import USER, Site, screenshot


def a_running_build(url: str) -> tuple[str, str]:
    """(branch, revision) of a running build."""
    running_now = httpx.get(f"{url}/running?format=json").json()["running"]
    for branch, revisions in sorted(running_now.items()):
        for revision in sorted(revisions):
            return branch, revision
    pytest.skip("nothing is running in this history")


def test_cancel_button_lands_on_the_job_page(browser, site: Site) -> None:  # type: ignore[no-untyped-def]
    branch, revision = a_running_build(site.url)
    context = browser.new_context(http_credentials={"username": USER, "password": site.token})
    page = context.new_page()
    try:
        response = page.goto(f"{site.url}/self-serve/{branch}/rev/{revision}")
        assert response is not None and response.status == 200
        page.locator("#running td.actions button", has_text="cancel").first.click()
        page.wait_for_url(re.compile(r"/self-serve/jobs/\d+$"))
        job_id = page.url.rsplit("/", 1)[1]
        assert page.title() == f"Job {job_id} status detail"
        assert '"action": "cancel_build"' in page.locator("pre").inner_text()
        screenshot(page, "job-after-cancel")
    finally:
        context.close()


def test_a_build_page_asks_before_cancelling(browser, site: Site) -> None:  # type: ignore[no-untyped-def]
    """Declined, the cancel sends nothing and the page stays; accepted, it is sent."""
    running_now = httpx.get(f"{site.url}/running?format=json").json()["running"]
    branch, revisions = sorted(running_now.items())[0]
    build_id = sorted(revisions.items())[0][1][0]["id"]
    history = f"{site.url}/self-serve/jobs?format=json&num=1000"
    jobs_before = len(httpx.get(history).json())
    context = browser.new_context(http_credentials={"username": USER, "password": site.token})
    page = context.new_page()
    asked: list[str] = []
    answers = iter(["dismiss", "accept"])

    def answer(dialog) -> None:  # type: ignore[no-untyped-def]
        asked.append(dialog.message)
        getattr(dialog, next(answers))()

    page.on("dialog", answer)
    try:
        at = f"{site.url}/self-serve/{branch}/build/{build_id}"
        response = page.goto(at)
        assert response is not None and response.status == 200
        cancel = page.locator("button", has_text="Cancel this build")
        cancel.click()
        assert asked == [f"Cancel build {build_id}?"]
        assert page.url == at
        assert len(httpx.get(history).json()) == jobs_before, "declined, nothing was sent"
        cancel.click()
        page.wait_for_url(re.compile(r"/self-serve/jobs/\d+$"))
        assert len(asked) == 2
    finally:
        context.close()
