"""The human pages link every id, revision, builder, slave and branch to its own page, keep
their JSON as it was, and carry their action buttons."""

from __future__ import annotations

import re

import httpx

BROWSER = {"Accept": "text/html"}
JSON = {"Accept": "application/json"}


def hrefs(page: str) -> set[str]:
    return set(re.findall(r'href="([^"]+)"', page))


def test_pending_links_and_buttons(farm_client: httpx.Client) -> None:
    data = farm_client.get("/pending", headers=JSON).json()["pending"]
    revision, items = next(iter(data["mozilla-inbound"].items()))
    page = farm_client.get("/pending", headers=BROWSER).text
    found = hrefs(page)
    item = items[0]
    assert f"/self-serve/mozilla-inbound/rev/{revision}" in found
    assert f"/self-serve/mozilla-inbound/request/{item['id']}" in found
    assert f"/reports/builder/{item['buildername'].replace(' ', '%20')}" in found
    assert "/self-serve/mozilla-inbound" in found
    at = f"/self-serve/mozilla-inbound/request/{item['id']}"
    assert f'formaction="{at}?_method=DELETE"' in page
    assert f'formaction="{at}?_method=PUT"' in page
    assert f'name="request_id" value="{item["id"]}"' in page
    assert 'name="csrf_token" value="__buildapi_csrf_token__"' not in page
