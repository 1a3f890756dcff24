"""A trailing-slash redirect keeps a real browser on the app's host, however the path begins."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest


@pytest.mark.parametrize(
    "path", ["//evil.example/", "/%2F%2Fevil.example/", "/\\evil.example/", "///evil.example/"]
)
def test_slash_redirect_stays_on_the_app_host(page, base_url: str, path: str) -> None:  # type: ignore[no-untyped-def]
    # Were the browser sent off site, it would land here rather than on a DNS error.
    page.route("http://evil.example/**", lambda route: route.fulfill(body="off site"))
    page.goto(base_url + path)
    assert urlsplit(page.url).netloc == urlsplit(base_url).netloc, page.url
    assert "off site" not in page.content()
