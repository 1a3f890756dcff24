"""Layout documents: the shipped examples, URLs, refresh, and keeping the last good copy."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from buildapi.config import Settings, load_settings
from buildapi.errors import ConfigError
from buildapi.layout import load_layout
from buildapi.layout.loader import LayoutSource
from buildapi.layout.models import BranchesDocument

PLATFORMS = ("linux", "linux64", "macosx64", "win32", "win64", "android-api-15")


def test_examples_describe_a_realistic_farm(settings: Settings) -> None:
    layout = load_layout(settings)
    assert {"mozilla-central", "mozilla-inbound", "try", "mozilla-beta", "ash"} <= set(
        layout.branches
    )
    assert layout.branches["mozilla-inbound"].repo_path == "integration/mozilla-inbound"
    assert layout.branches["mozilla-beta"].repo_path == "releases/mozilla-beta"
    assert layout.branches["ash"].repo_path == "projects/ash"
    assert len(layout.masters) >= 10
    assert {master.pool for master in layout.masters} == {"buildpool", "trybuildpool", "testpool"}
    assert len(layout.builders) >= 300
    kinds = {builder.kind for builder in layout.builders.values()}
    assert kinds == {"build", "test", "talos", "nightly", "l10n", "pgo"}
    platforms = {builder.properties.platform for builder in layout.builders.values()}
    assert set(PLATFORMS) <= platforms


def test_example_names_follow_mozilla_conventions(settings: Settings) -> None:
    names = set(load_layout(settings).builders)
    for name in (
        "Linux x86-64 mozilla-inbound build",
        "Linux x86-64 mozilla-inbound leak test build",
        "WINNT 5.2 mozilla-inbound pgo-build",
        "Ubuntu VM 12.04 x64 mozilla-inbound opt test mochitest-1",
        "Windows 7 32-bit mozilla-central debug test reftest",
        "Rev5 MacOSX Yosemite 10.10 try talos tp5o",
        "Android 4.3 armv7 API 15+ ash opt test plain-reftest-1",
        "OS X 10.7 mozilla-central nightly",
        "Firefox mozilla-central linux64 l10n nightly-1",
    ):
        assert name in names


def test_tests_are_triggered_by_a_build_of_their_branch(settings: Settings) -> None:
    layout = load_layout(settings)
    for name, builder in layout.builders.items():
        if builder.kind in ("test", "talos"):
            upstream = layout.builders[builder.triggered_by or ""]
            assert upstream.kind == "build", name
            assert upstream.properties.branch == builder.properties.branch, name
            assert builder.properties.branch in name, name


class Served:
    """A tiny real HTTP server whose answer the test changes between fetches."""

    def __init__(self) -> None:
        self.status = 200
        self.body = b""
        served = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(served.status)
                self.send_header("Content-Length", str(len(served.body)))
                self.end_headers()
                self.wfile.write(served.body)

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/branches.json"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def served() -> Iterator[Served]:
    server = Served()
    yield server
    server.close()


BRANCHES = {"ash": {"repo": "https://hg.mozilla.org/projects/ash", "repo_type": "hg"}}


def test_url_that_fails_after_a_good_load_keeps_the_old_data(served: Served) -> None:
    served.body = json.dumps(BRANCHES).encode()
    source = LayoutSource(served.url, BranchesDocument, timeout=5)
    assert source.refresh() is True
    assert list(source.document.root) == ["ash"]

    served.status = 500
    assert source.refresh() is False
    assert "500" in (source.last_error or "")
    assert list(source.document.root) == ["ash"]

    served.status, served.body = 200, b"{not json"
    assert source.refresh() is False
    assert list(source.document.root) == ["ash"]

    served.body = json.dumps({"ash": {"repo_type": "hg"}}).encode()
    assert source.refresh() is False
    assert "ash.repo" in (source.last_error or "")

    served.body = json.dumps({**BRANCHES, "try": {"repo": "https://hg.mozilla.org/try"}}).encode()
    assert source.refresh() is True
    assert source.last_error is None
    assert sorted(source.document.root) == ["ash", "try"]


def test_first_load_failure_is_one_clear_error(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, branches_url=str(tmp_path / "nope.json"))
    with pytest.raises(ConfigError, match=r"cannot read layout .*nope\.json"):
        load_layout(settings)


def test_layout_from_file_paths(tmp_path: Path) -> None:
    path = tmp_path / "branches.json"
    path.write_text(json.dumps(BRANCHES), encoding="utf-8")
    settings = load_settings(data_dir=tmp_path, branches_url=f"file://{path}")
    assert list(load_layout(settings).branches) == ["ash"]


def test_running_server_refreshes_the_layout(served: Served, tmp_path: Path) -> None:
    """The web app's background task fetches the layout again every layout_refresh_seconds."""
    from starlette.testclient import TestClient

    from buildapi.db.engines import Databases
    from buildapi.web.app import create_app

    served.body = json.dumps(BRANCHES).encode()
    settings = load_settings(data_dir=tmp_path, branches_url=served.url, layout_refresh_seconds=1)
    layout = load_layout(settings)
    refreshed = threading.Event()
    original = layout.refresh

    def refresh_and_signal() -> None:
        original()
        refreshed.set()

    layout.refresh = refresh_and_signal  # type: ignore[method-assign]
    served.body = json.dumps({**BRANCHES, "try": {"repo": "https://hg.mozilla.org/try"}}).encode()
    databases = Databases.from_settings(settings)
    try:
        with TestClient(create_app(settings, databases, layout)) as client:
            assert refreshed.wait(timeout=30), "no refresh within 30 s"
            branches = client.get("/?format=json").json()["branches"]
    finally:
        databases.dispose()
    assert branches == ["ash", "try"]
