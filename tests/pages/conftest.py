"""Headless Chromium (the system's, through Playwright) against a real `buildapi web`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import httpx
import pytest

from buildapi.cli import main
from buildapi.config import load_settings
from buildapi.db.engines import Databases
from tests.processes import free_port, running
from tests.services import service_url
from tests.tokens import make_token

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator:
    executable = service_url("chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A farm history with its JSON dumps written and one job answered, so every family of
    pages (dump files and job pages too) has something to show."""
    data = tmp_path_factory.mktemp("pages-data")
    history = ["farm", "history", "--days", "0.3", "--jobs-per-day", "3000"]
    assert main(["db", "init", "--data-dir", str(data)]) == 0
    assert main([*history, "--data-dir", str(data)]) == 0
    assert main(["dumps", "--data-dir", str(data)]) == 0
    databases = Databases.from_settings(load_settings(data_dir=data))
    token = make_token(databases, USER)
    databases.dispose()
    port = free_port()
    with running(["web", "--port", str(port), "--data-dir", str(data)]):
        url = f"http://127.0.0.1:{port}"
        answer_one_job(url, token)
        yield url


def answer_one_job(url: str, token: str) -> None:
    """Ask for a build of a mozilla-inbound revision and wait for the web's own agent (on
    the memory:// broker) to answer it."""
    items = httpx.get(f"{url}/self-serve/mozilla-inbound?format=json", timeout=60).json()
    revision = next(item["revision"] for item in items if item.get("revision"))
    asked = httpx.post(
        f"{url}/self-serve/mozilla-inbound/rev/{revision}",
        auth=(USER, token),
        headers={"Accept": "application/json"},
        timeout=60,
    )
    assert asked.status_code == 202, asked.text
    job_url = f"{url}/self-serve/jobs/{asked.json()['request_id']}?format=json"
    deadline = time.monotonic() + 60
    while httpx.get(job_url, timeout=60).json()["completed_at"] is None:
        assert time.monotonic() < deadline, "the agent did not answer the job within 60 s"
        time.sleep(0.1)


def watch_errors(page) -> None:  # type: ignore[no-untyped-def]
    """Collect console errors, uncaught exceptions and 404 responses in `page.console_errors`."""
    page.console_errors = []
    page.on(
        "console",
        lambda message: message.type == "error" and page.console_errors.append(message.text),
    )
    page.on("pageerror", lambda error: page.console_errors.append(str(error)))
    page.on(
        "response",
        lambda response: (
            response.status == 404 and page.console_errors.append(f"404: {response.url}")
        ),
    )


USER = "dev@example.com"


class Site(NamedTuple):
    url: str
    token: str


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A short farm history with builds still running, `USER`'s token, and `buildapi web` on
    it (on the memory:// broker it runs the agent too), for the tests that act as a user."""
    data = tmp_path_factory.mktemp("acting-data")
    history = ["farm", "history", "--days", "0.1", "--jobs-per-day", "3000"]
    assert main(["db", "init", "--data-dir", str(data)]) == 0
    assert main([*history, "--data-dir", str(data)]) == 0
    databases = Databases.from_settings(load_settings(data_dir=data))
    token = make_token(databases, USER)
    databases.dispose()
    port = free_port()
    with running(["web", "--port", str(port), "--data-dir", str(data)]):
        yield Site(f"http://127.0.0.1:{port}", token)


@pytest.fixture
def page(browser) -> Iterator:  # type: ignore[no-untyped-def]
    context = browser.new_context()
    page = context.new_page()
    watch_errors(page)
    yield page
    context.close()


def screenshot(page, name: str, max_height: int | None = None) -> Path:  # type: ignore[no-untyped-def]
    """The whole page, or its top `max_height` pixels: a table of thousands of rows takes
    seconds to encode, and its first screens show how it looks."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    height = page.evaluate("document.documentElement.scrollHeight")
    if max_height is None or height <= max_height:
        page.screenshot(path=str(path), full_page=True)
    else:
        clip = {"x": 0, "y": 0, "width": page.viewport_size["width"], "height": max_height}
        page.screenshot(path=str(path), full_page=True, clip=clip)
    return path
