"""CSRF protection of the self-serve forms: pages hand out a signed cookie and the same token
in each form; a form post must echo it, a post from another site is refused with or without
a token, and scripts (no Origin, no Referer, no Sec-Fetch-*) need no token."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator

import httpx
import pytest
from starlette.testclient import TestClient

from buildapi.config import Settings
from buildapi.farm.farm import Farm
from buildapi.web.app import create_app
from buildapi.web.csrf import COOKIE, SECURE_COOKIE
from tests.api.conftest import START
from tests.api.test_actions import (
    BRANCH,
    a_build,
    a_revision,
    basic,
    job_count,
    job_row,
    request_ids,
)
from tests.tokens import make_token

USER = "dev@example.com"
TOKEN_FIELD = re.compile(r'<input type="hidden" name="csrf_token" value="([^"]*)">')
SAME_ORIGIN = {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}


@pytest.fixture(scope="module")
def token(busy_farm: Farm) -> str:
    return make_token(busy_farm.databases, USER)


@pytest.fixture
def client(farm_client: httpx.Client) -> Iterator[httpx.Client]:
    """The module's client with an empty cookie jar, as a new visitor."""
    farm_client.cookies.clear()
    yield farm_client
    farm_client.cookies.clear()


def browser(token: str, **headers: str) -> dict[str, str]:
    """A browser's headers: Basic credentials, HTML wanted."""
    return {**basic(USER, token), "Accept": "text/html", **headers}


def page_token(client: httpx.Client, path: str) -> str:
    """Visit a page; every one of its forms carries the token the cookie holds."""
    response = client.get(path)
    assert response.status_code == 200, response.text
    forms = response.text.count('<form method="post"')
    tokens = set(TOKEN_FIELD.findall(response.text))
    assert forms > 0 and response.text.count('name="csrf_token"') == forms
    assert len(tokens) == 1 and tokens == {client.cookies[COOKIE]}
    return tokens.pop()


def day_path(settings: Settings) -> str:
    day = datetime.datetime.fromtimestamp(START + 3600, settings.zone).date()
    return f"/self-serve/{BRANCH}?date={day}"


def test_pages_set_the_cookie_and_put_its_value_in_every_form(
    client: httpx.Client, busy_farm: Farm, live_settings: Settings
) -> None:
    for path in (
        day_path(live_settings),
        f"/self-serve/{BRANCH}/rev/{a_revision(busy_farm.databases)}",
    ):
        client.cookies.clear()
        first = client.get(path)
        cookie = first.headers["set-cookie"]
        assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie
        assert "Path=/;" in cookie and "SameSite=strict" in cookie
        assert first.headers["cache-control"] == "private"
        token = page_token(client, path)  # served from the cache: the visitor's token again
        assert token == client.cookies[COOKIE]
        again = client.get(path)
        assert "set-cookie" not in again.headers and again.headers.get("x-cache") == "hit"
        client.cookies.clear()
        assert page_token(client, path) != token  # another visitor, another token


def test_the_json_of_a_page_has_no_token(client: httpx.Client, busy_farm: Farm) -> None:
    response = client.get(f"/self-serve/{BRANCH}/rev/{a_revision(busy_farm.databases)}?format=json")
    assert response.status_code == 200 and "set-cookie" not in response.headers
    assert "csrf" not in response.text


def test_a_form_post_with_the_page_token_lands_on_the_job_page(
    client: httpx.Client, busy_farm: Farm, token: str
) -> None:
    revision = a_revision(busy_farm.databases)
    csrf = page_token(client, f"/self-serve/{BRANCH}/rev/{revision}")
    request_id = request_ids(busy_farm.databases, claimed=False, complete=False)[0]
    response = client.post(
        f"/self-serve/{BRANCH}/request/{request_id}",
        data={"_method": "PUT", "priority": "4", "csrf_token": csrf},
        headers=browser(token, **SAME_ORIGIN),
    )
    assert response.status_code == 302, response.text
    job_id = int(response.headers["location"].rsplit("/", 1)[1])
    row = job_row(busy_farm.databases, job_id)
    assert (row.action, row.who) == ("reprioritize", USER)


def test_a_token_that_does_not_match_the_cookie_is_refused(
    client: httpx.Client, busy_farm: Farm, token: str
) -> None:
    build_id = a_build(busy_farm.databases)
    path = f"/self-serve/{BRANCH}/build"
    csrf = page_token(client, f"/self-serve/{BRANCH}/rev/{a_revision(busy_farm.databases)}")
    before = job_count(busy_farm.databases)
    attempts = [
        (path, {"build_id": build_id, "csrf_token": "x" * len(csrf)}),
        (path, {"build_id": build_id, "csrf_token": ""}),
        (f"{path}?csrf_token=wrong", {"build_id": build_id}),
    ]
    for url, data in attempts:
        response = client.post(url, data=data, headers=browser(token, **SAME_ORIGIN))
        assert response.status_code == 403, (url, data)
        assert "CSRF token does not match" in response.text
    client.cookies.clear()  # the right token, but no cookie to match it
    response = client.post(
        path,
        data={"build_id": build_id, "csrf_token": csrf},
        headers={**basic(USER, token), **SAME_ORIGIN},
    )
    assert response.status_code == 403
    assert response.json() == {
        "status": "FAILED",
        "msg": "the form's CSRF token does not match the buildapi_csrf cookie; "
        "reload the page and try again",
    }
    assert job_count(busy_farm.databases) == before


def test_a_planted_cookie_with_its_own_token_is_refused(
    client: httpx.Client, busy_farm: Farm, token: str, live_settings: Settings
) -> None:
    """Someone who can set a cookie for the site (a sibling domain, plain HTTP) picks its value
    and puts the same in the form: only tokens signed with this server's secret pass."""
    revision = a_revision(busy_farm.databases)
    page_token(client, f"/self-serve/{BRANCH}/rev/{revision}")
    stranger = live_settings.model_copy(update={"secret_key": "another server's secret " * 2})
    other_app = create_app(stranger, busy_farm.databases, busy_farm.layout)
    with TestClient(other_app, follow_redirects=False) as other:
        foreign = page_token(other, f"/self-serve/{BRANCH}/rev/{revision}")
    before = job_count(busy_farm.databases)
    for planted in ("x" * 43, "planted", f"{'a' * 43}.{'b' * 43}", foreign):
        client.cookies.set(COOKIE, planted)
        response = client.post(
            f"/self-serve/{BRANCH}/rev/{revision}",
            data={"_method": "DELETE", "csrf_token": planted},
            headers=browser(token, **SAME_ORIGIN),
        )
        assert response.status_code == 403, planted
        assert "CSRF token does not match" in response.text
    assert job_count(busy_farm.databases) == before


@pytest.mark.parametrize("with_token", [False, True])
@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site", "Origin": "http://testserver"},
        {"Origin": "https://elsewhere.example"},
        {"Origin": "null"},
        {"Referer": "https://elsewhere.example/page"},
        {"Sec-Fetch-Site": "same-origin", "Origin": "https://elsewhere.example"},
    ],
)
def test_a_browser_post_from_another_site_is_refused_even_with_the_token(
    client: httpx.Client, busy_farm: Farm, token: str, headers: dict[str, str], with_token: bool
) -> None:
    revision = a_revision(busy_farm.databases)
    data = {"_method": "DELETE"}
    if with_token:
        data["csrf_token"] = page_token(client, f"/self-serve/{BRANCH}/rev/{revision}")
    before = job_count(busy_farm.databases)
    response = client.post(
        f"/self-serve/{BRANCH}/rev/{revision}",
        data=data,
        headers={**basic(USER, token), **headers},
    )
    assert response.status_code == 403
    assert "from another site" in response.json()["msg"]
    assert job_count(busy_farm.databases) == before


def test_over_https_the_cookie_is_host_only_and_secure(
    busy_farm: Farm, token: str, live_settings: Settings
) -> None:
    """Behind a TLS proxy the page is HTTPS: a `__Host-` cookie, which only a secure response
    of this very host can set, for the whole host."""
    settings = live_settings.model_copy(update={"mount_prefix": "/buildapi"})
    app = create_app(settings, busy_farm.databases, busy_farm.layout)
    revision = a_revision(busy_farm.databases)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as secure:
        page = secure.get(f"/buildapi/self-serve/{BRANCH}/rev/{revision}")
        cookie = page.headers["set-cookie"]
        assert cookie.startswith(f"{SECURE_COOKIE}=") and "Secure" in cookie
        assert "Path=/;" in cookie and "Domain" not in cookie
        csrf = TOKEN_FIELD.findall(page.text)[0]
        assert csrf == secure.cookies[SECURE_COOKIE]
        secure.cookies.set(COOKIE, csrf)  # the plain-HTTP name is not looked at over HTTPS
        del secure.cookies[SECURE_COOKIE]
        refused = secure.post(
            f"/buildapi/self-serve/{BRANCH}/rev/{revision}",
            data={"_method": "DELETE", "csrf_token": csrf},
            headers={**browser(token), "Origin": "https://testserver"},
        )
        assert refused.status_code == 403
        secure.cookies.clear()
        secure.cookies.set(SECURE_COOKIE, csrf)
        accepted = secure.post(
            f"/buildapi/self-serve/{BRANCH}/rev/{revision}",
            data={"_method": "DELETE", "csrf_token": csrf},
            headers={**browser(token), "Origin": "https://testserver"},
        )
        assert accepted.status_code == 302, accepted.text


def test_authentication_and_branch_checks_come_first(
    client: httpx.Client, busy_farm: Farm, token: str
) -> None:
    cross = {"Sec-Fetch-Site": "cross-site"}
    response = client.delete(
        f"/self-serve/{BRANCH}/build/{a_build(busy_farm.databases)}",
        headers={"Accept": "application/json", **cross},
    )
    assert response.status_code == 401
    response = client.delete(
        "/self-serve/mozilla-beta/build/1", headers={**basic(USER, token), **cross}
    )
    assert response.status_code == 403
    assert response.json()["msg"] == f"{USER} may not act on branch mozilla-beta"


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Accept": "application/json"}, 202),  # mozci, buildapi_client, node scripts
        ({"Accept": "*/*"}, 302),  # requests.delete(url) and friends
        (SAME_ORIGIN, 302),  # a form of this site's pages, even without the token
        ({"Sec-Fetch-Site": "none"}, 302),  # typed by the user
    ],
)
def test_requests_that_are_not_from_another_site_need_no_token(
    client: httpx.Client, busy_farm: Farm, token: str, headers: dict[str, str], status: int
) -> None:
    response = client.post(
        f"/self-serve/{BRANCH}/build",
        data={"build_id": str(a_build(busy_farm.databases))},
        headers=browser(token, **headers),
    )
    assert response.status_code == status, response.text
