"""Changeset URLs from the branches config, and times as `<time>` elements."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from buildapi.config import Settings
from buildapi.layout import load_layout
from buildapi.web.links import changeset_url, time_element


def test_changeset_url_per_repository_type(settings: Settings) -> None:
    layout = load_layout(settings)
    name, branch = next(iter(layout.branches.items()))
    url = changeset_url(layout, name, "abcdef123456")
    assert url == f"{branch.repo.rstrip('/')}/rev/abcdef123456"
    assert changeset_url(layout, "no-such-branch", "abcdef123456") is None
    assert changeset_url(layout, name, "") is None


def test_time_element_shows_local_time_and_epoch() -> None:
    shown = time_element(1700000000, ZoneInfo("America/Los_Angeles"))
    assert shown == (
        '<time datetime="2023-11-14T14:13:20-08:00" title="epoch 1700000000">'
        "2023-11-14 14:13:20</time>"
    )
    assert time_element(None, ZoneInfo("UTC")) == "-"
