"""The rules every endpoint shares (format, errors, _method, slashes, prefix), via the real app."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from fastapi import APIRouter, Request

from buildapi.config import Settings, load_settings
from buildapi.db.engines import Databases
from buildapi.layout import FarmLayout
from buildapi.web.app import create_api
from tests.conftest import make_client


@pytest.mark.parametrize(
    ("query", "accept", "expected"),
    [
        ("?format=json", "", "application/json"),
        ("?format=html", "application/json", "text/html"),
        ("?format=json", "text/html", "application/json"),
        ("", "application/json", "application/json"),
        ("", "*/*", "text/html"),
        ("", "", "text/html"),
        ("", "application/json, text/plain, */*", "application/json"),
        ("", "text/html,application/xhtml+xml", "text/html"),
    ],
)
def test_format_negotiation(client: httpx.Client, query: str, accept: str, expected: str) -> None:
    headers = {"Accept": accept} if accept else {}
    response = client.get(f"/{query}", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(expected)
    if expected == "application/json":
        assert "mozilla-central" in response.json()["branches"]
    else:
        assert "<h1>BuildAPI</h1>" in response.text


def test_unknown_format_is_a_400_naming_the_allowed_values(client: httpx.Client) -> None:
    response = client.get("/?format=xml", headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert response.json() == {
        "status": "FAILED",
        "msg": "unsupported format 'xml'; use one of: json, html",
    }
    page = client.get("/?format=xml")
    assert page.status_code == 400
    assert "text/html" in page.headers["content-type"]
    assert "use one of: json, html" in page.text


def test_unknown_path_is_a_404_failed_body(client: httpx.Client) -> None:
    response = client.get("/no/such/page?format=json")
    assert response.status_code == 404
    assert response.json() == {"status": "FAILED", "msg": "no such page: /no/such/page"}
    page = client.get("/no/such/page")
    assert page.status_code == 404
    assert "<pre>" in page.text and "FAILED" in page.text


def test_wrong_method_is_a_405_failed_body(client: httpx.Client) -> None:
    response = client.post("/healthz?format=json")
    assert response.status_code == 405
    assert response.json()["status"] == "FAILED"


@pytest.mark.parametrize(
    "path",
    ["/healthz?format=json", "/pending?format=json", "/self-serve/try", "/", "/openapi.json"],
)
def test_head_answers_as_get_without_a_body(client: httpx.Client, path: str) -> None:
    got = client.get(path)
    head = client.head(path)
    assert (head.status_code, got.status_code) == (200, 200)
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers["content-length"] == str(len(got.content))


def test_head_of_a_missing_page_is_a_404_without_a_body(client: httpx.Client) -> None:
    head = client.head("/self-serve/try/build/999999?format=json")
    assert head.status_code == 404 and head.content == b""


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("POST", "/healthz", "GET, HEAD"),
        ("OPTIONS", "/self-serve/try/request/5", "GET, HEAD, PUT, DELETE"),
        ("PATCH", "/self-serve/try/build/4", "GET, HEAD, DELETE"),
        ("OPTIONS", "/self-serve/try/rev/abcdef123456", "GET, HEAD, POST, DELETE"),
    ],
)
def test_a_405_names_every_method_of_the_path(
    client: httpx.Client, method: str, path: str, allowed: str
) -> None:
    """Several routes share some paths; Allow names the methods of all of them (RFC 9110)."""
    response = client.request(method, f"{path}?format=json")
    assert response.status_code == 405
    assert response.headers["allow"] == allowed


@pytest.fixture
def echo_client(settings: Settings, databases: Databases, layout: FarmLayout) -> Iterator:
    """The app plus one path answering every method with the method it saw."""
    router = APIRouter()

    @router.api_route("/echo", methods=["GET", "POST", "PUT", "DELETE"])
    async def echo(request: Request) -> dict[str, str]:
        form = await request.form() if request.method != "GET" else {}
        return {"method": request.method, "priority": str(form.get("priority", ""))}

    from starlette.testclient import TestClient

    from buildapi.web import app as web_app

    original = web_app.ROUTERS
    web_app.ROUTERS = (*original, (router, False))
    try:
        with TestClient(web_app.create_app(settings, databases, layout)) as test_client:
            yield test_client
    finally:
        web_app.ROUTERS = original


@pytest.mark.parametrize("method", ["DELETE", "PUT", "delete"])
def test_method_override_in_a_form(echo_client, method: str) -> None:
    response = echo_client.post("/echo", data={"_method": method, "priority": "3"})
    assert response.json() == {"method": method.upper(), "priority": "3"}


def test_method_override_in_multipart_and_json(echo_client) -> None:
    response = echo_client.post("/echo", files={"_method": (None, "PUT")})
    assert response.json()["method"] == "PUT"
    response = echo_client.post("/echo", json={"_method": "DELETE"})
    assert response.json()["method"] == "DELETE"


@pytest.mark.parametrize("body", [{"_method": "GET"}, {"_method": "PATCH"}, {"priority": "1"}, {}])
def test_other_posts_stay_posts(echo_client, body: dict[str, str]) -> None:
    assert echo_client.post("/echo", data=body).json()["method"] == "POST"


def test_override_only_applies_to_post(echo_client) -> None:
    assert echo_client.get("/echo?_method=DELETE").json()["method"] == "GET"


def test_trailing_slash_redirects_permanently(client: httpx.Client) -> None:
    response = client.get("/healthz/?format=json")
    assert response.status_code == 301
    assert response.headers["location"] == "/healthz?format=json"
    assert client.get("/").status_code == 200


@pytest.fixture
def prefixed(tmp_path, databases: Databases, layout: FarmLayout) -> Iterator[httpx.Client]:
    settings = load_settings(data_dir=tmp_path / "data", mount_prefix="/buildapi")
    with make_client(settings, databases, layout) as test_client:
        yield test_client


def test_mount_prefix_is_honoured_in_links_and_redirects(prefixed: httpx.Client) -> None:
    page = prefixed.get("/buildapi/")
    assert page.status_code == 200
    assert 'href="/buildapi/static/buildapi.css"' in page.text
    assert 'href="/buildapi/healthz"' in page.text
    assert 'href="/healthz"' not in page.text
    assert prefixed.get("/buildapi/static/buildapi.css").status_code == 200
    redirect = prefixed.get("/buildapi/healthz/?format=json")
    assert redirect.status_code == 301
    assert redirect.headers["location"] == "/buildapi/healthz?format=json"
    assert prefixed.get("/buildapi/healthz?format=json").json()["status"] == "OK"
    assert prefixed.get("/healthz?format=json").status_code == 404
    bare = prefixed.get("/buildapi")
    assert bare.status_code in (301, 307)
    assert bare.headers["location"].endswith("/buildapi/")


OFF_SITE_PATHS = ["//evil.example/", "/%2F%2Fevil.example/", "/\\evil.example/", "///evil.example/"]


def assert_stays_on_site(response: httpx.Response) -> None:
    """Any redirect is to a path of this app: one slash, then neither a slash nor a backslash."""
    if response.is_redirect:
        assert re.match(r"/[^/\\]", response.headers["location"]), response.headers["location"]


@pytest.mark.parametrize("path", OFF_SITE_PATHS)
def test_trailing_slash_redirect_stays_on_site(client: httpx.Client, path: str) -> None:
    response = client.get(f"http://testserver{path}?format=json")
    assert response.status_code == 301
    assert_stays_on_site(response)
    assert response.headers["location"].endswith("evil.example?format=json")


@pytest.mark.parametrize("path", OFF_SITE_PATHS)
def test_trailing_slash_redirect_stays_under_the_prefix(prefixed: httpx.Client, path: str) -> None:
    inside = prefixed.get(f"http://testserver/buildapi{path}")
    assert inside.status_code == 301
    assert inside.headers["location"].startswith("/buildapi/")
    assert_stays_on_site(inside)
    outside = prefixed.get(f"http://testserver{path}")
    assert outside.status_code == 404


def test_redirect_keeps_the_path_as_sent(client: httpx.Client) -> None:
    """`%2F` is not a slash: the target is the raw path, still percent-encoded."""
    response = client.get("http://testserver/%2F%2Fevil.example/")
    assert response.headers["location"] == "/%2F%2Fevil.example"


def test_openapi_describes_the_routes(client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["info"]["title"] == "BuildAPI"
    assert {"/", "/healthz"} <= set(spec["paths"])


def test_landing_page_links_only_to_served_pages(client: httpx.Client) -> None:
    links = client.get("/?format=json").json()["links"]
    assert links["Health"] == "/healthz"
    for path in links.values():
        assert client.get(path).status_code == 200, path


def test_api_can_be_built_without_the_prefix_wrapper(
    settings: Settings, databases: Databases, layout: FarmLayout
) -> None:
    from starlette.testclient import TestClient

    with TestClient(create_api(settings, databases, layout)) as client:
        assert client.get("/healthz?format=json").json()["status"] == "OK"
