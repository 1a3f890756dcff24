"""The self-serve buttons work in a browser: a signed-in user cancels a running build from a
revision page and lands on the job's page (the form carries the CSRF token by itself)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

import httpx
import pytest

from buildapi.cli import main
from buildapi.config import load_settings
from buildapi.db.engines import Databases
from tests.pages.conftest import screenshot
from tests.processes import free_port, running
from tests.tokens import make_token

USER = "dev@example.com"


class Site(NamedTuple):
    url: str
    token: str


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A farm history with builds still running, a user's token, and `buildapi web` on it."""
    data = tmp_path_factory.mktemp("buttons-data")
    history = ["farm", "history", "--days", "0.1", "--jobs-per-day", "3000"]
    assert main(["db", "init", "--data-dir", str(data)]) == 0
    assert main([*history, "--data-dir", str(data)]) == 0
    databases = Databases.from_settings(load_settings(data_dir=data))
    token = make_token(databases, USER)
    databases.dispose()
    port = free_port()
    with running(["web", "--port", str(port), "--data-dir", str(data)]):
        yield Site(f"http://127.0.0.1:{port}", token)


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
