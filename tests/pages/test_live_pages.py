"""Pages that follow the farm without a reload: /pending shows a new request, and a job's page
turns complete once an agent answers. The web relays through RabbitMQ, so a job stays open
until the test starts an agent."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import NamedTuple

import httpx
import pytest

from buildapi.cli import main
from buildapi.config import load_settings
from buildapi.db.engines import Databases
from tests.conftest import broker_names
from tests.pages.conftest import screenshot
from tests.pipeline.conftest import delete_broker_objects, settings_env
from tests.processes import free_port, running, wait_until
from tests.services import service_url
from tests.tokens import make_token

USER = "dev@example.com"


class Site(NamedTuple):
    url: str
    token: str
    env: dict[str, str]

    def rebuild(self) -> int:
        """Ask for one more run of a running build's request; the job id."""
        running_now = httpx.get(f"{self.url}/running?format=json", timeout=30).json()["running"]
        branch, revisions = sorted(running_now.items())[0]
        request_id = next(iter(revisions.values()))[0]["request_ids"][0]
        response = httpx.post(
            f"{self.url}/self-serve/{branch}/request",
            data={"request_id": request_id, "count": 1},
            headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json"},
            timeout=30,
        )
        assert response.status_code == 202, response.text
        return response.json()["request_id"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    data = tmp_path_factory.mktemp("live-pages")
    settings = load_settings(data_dir=data, broker_url=service_url("amqp"), **broker_names())
    history = ["farm", "history", "--days", "0.1", "--jobs-per-day", "3000"]
    assert main(["db", "init", "--data-dir", str(data)]) == 0
    assert main([*history, "--data-dir", str(data)]) == 0
    databases = Databases.from_settings(settings)
    token = make_token(databases, USER)
    databases.dispose()
    env = settings_env(settings)
    port = free_port()
    try:
        with running(["web", "--port", str(port)], env=env):
            yield Site(f"http://127.0.0.1:{port}", token, env)
    finally:
        delete_broker_objects(settings)


def agent(site: Site):  # type: ignore[no-untyped-def]
    return running(["agent"], env=site.env, ready="agent consuming")


def pending_count(site: Site) -> int:
    tree = httpx.get(f"{site.url}/pending?format=json", timeout=30).json()["pending"]
    return sum(len(items) for revisions in tree.values() for items in revisions.values())


def test_pending_shows_a_new_request_without_a_reload(page, site: Site) -> None:  # type: ignore[no-untyped-def]
    with agent(site):
        waiting = pending_count(site)
        site.rebuild()  # something pending, so the page has a table to sort
        wait_until(lambda: pending_count(site) > waiting, 15, "a pending request")
        response = page.goto(f"{site.url}/pending")
        assert response is not None and response.status == 200
        page.locator("#pending th", has_text="Request").click()  # a sort of the reader's own
        before = page.locator("#pending tbody tr").count()
        page.evaluate("window.loadedOnce = true")
        site.rebuild()
        page.wait_for_function(
            f"document.querySelectorAll('#pending tbody tr').length > {before}", timeout=15_000
        )
    assert page.evaluate("window.loadedOnce") is True, "the page was reloaded"
    heading = page.locator("#pending th", has_text="Request")
    assert heading.get_attribute("aria-sort") == "ascending"
    ids = [
        int(text) for text in page.locator("#pending tbody tr td:nth-child(4)").all_inner_texts()
    ]
    assert ids == sorted(ids), "the reader's sort was not kept"
    assert page.locator("noscript").count() >= 1
    screenshot(page, "pending-live")
    assert page.console_errors == []


def test_the_job_page_turns_complete_without_a_reload(page, site: Site) -> None:  # type: ignore[no-untyped-def]
    job_id = site.rebuild()
    page.goto(f"{site.url}/self-serve/jobs/{job_id}")
    assert page.title() == f"Job {job_id} status detail"
    assert "waiting" in page.locator(".job-state").inner_text()
    assert page.locator("a", has_text="Job history").count() == 1
    page.evaluate("window.loadedOnce = true")
    with agent(site):
        answering = time.monotonic()
        page.wait_for_function(
            "document.querySelector('.job-state').textContent.trim() === 'complete'",
            timeout=10_000,
        )
        took = time.monotonic() - answering
    print(f"job page complete {took:.2f} s after the agent started consuming")
    assert page.evaluate("window.loadedOnce") is True, "the page was reloaded"
    assert '"completed_at": null' not in page.locator("pre").inner_text()
    assert "done" in page.locator(".job-result").inner_text()
    asked = page.locator("dd[title]").first
    assert asked.get_attribute("title", timeout=1000).isdigit()
    screenshot(page, "job-complete")
    assert page.console_errors == []
    assert took < 5
