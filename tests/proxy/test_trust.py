"""Who a request comes from, decided against real servers: `buildapi web` processes on
loopback, and the documented nginx in front of one. Only the socket peer and
`auth_trusted_proxies` decide whether proxy and forwarding headers are believed."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.proxy.conftest import DEV_USER, PASSWORD, USER, Web

REVISION = "abcdef123456"
WRITE = f"/self-serve/try/rev/{REVISION}"  # new builds at any revision (the servers allow it)
JSON = {"Accept": "application/json"}


def write(base: str, headers: dict[str, str], **options: object) -> httpx.Response:
    return httpx.post(base + WRITE, headers={**JSON, **headers}, timeout=30, **options)


@pytest.mark.parametrize(
    "forwarding",
    [
        {"X-Forwarded-For": "10.0.0.5"},
        {"X-Forwarded-For": "1.2.3.4, 10.0.0.5"},
        {"Forwarded": "for=10.0.0.5"},
        {"X-Real-IP": "10.0.0.5"},
    ],
)
def test_a_client_cannot_claim_to_be_the_trusted_proxy(
    far_proxy_web: Web, forwarding: dict[str, str]
) -> None:
    before = far_proxy_web.jobs()
    response = write(far_proxy_web.url, {"X-Remote-User": "mallory@example.com", **forwarding})
    assert response.status_code == 401, response.text
    assert response.json() == {"status": "FAILED", "msg": "credentials required"}
    assert far_proxy_web.jobs() == before


def test_a_proxy_on_the_same_host_that_appends_x_forwarded_for_is_believed(
    same_host_web: Web,
) -> None:
    response = write(same_host_web.url, {"X-Remote-User": USER, "X-Forwarded-For": "203.0.113.9"})
    assert response.status_code == 202, response.text
    job_id = response.json()["request_id"]
    assert (job_id, "new_build_at_revision", USER) in same_host_web.jobs()
    line = same_host_web.audit_line(job_id)
    assert f"by {USER} (proxy) from 127.0.0.1 (a trusted proxy, for 203.0.113.9):" in line


def test_the_development_user_is_not_given_to_a_trusted_proxy(
    same_host_web: Web,
) -> None:
    """A proxy on loopback forwards remote browsers: none of them is the local developer."""
    for forwarding in ({"X-Forwarded-For": "203.0.113.9"}, {}):
        response = write(same_host_web.url, forwarding)
        assert response.status_code == 401, forwarding


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "127.0.0.2"])
def test_the_development_user_is_a_browser_on_this_machine(dev_web: Web, host: str) -> None:
    port = dev_web.url.rsplit(":", 1)[1]
    response = write(dev_web.url, {"Host": f"{host}:{port}"})
    assert response.status_code == 202, response.text
    line = dev_web.audit_line(response.json()["request_id"])
    assert f"by {DEV_USER} (dev) from 127.0.0.1: " in line


def test_a_name_rebound_to_loopback_does_not_get_the_development_user(dev_web: Web) -> None:
    """DNS rebinding: another site's page, its name now pointing at 127.0.0.1, would pass the
    CSRF check (its Origin is its Host); its Host is not a loopback name."""
    port = dev_web.url.rsplit(":", 1)[1]
    before = dev_web.jobs()
    rebound = f"rebind.evil.example:{port}"
    response = write(
        dev_web.url,
        {"Host": rebound, "Origin": f"http://{rebound}", "Sec-Fetch-Site": "same-origin"},
    )
    assert response.status_code == 401
    assert dev_web.jobs() == before


def test_nginx_names_the_user_and_the_client_whatever_the_client_sends(
    nginx: str, same_host_web: Web
) -> None:
    # The client comes from another loopback address than nginx's, as a remote browser would.
    transport = httpx.HTTPTransport(local_address="127.0.0.2", verify=False)
    with httpx.Client(transport=transport, timeout=30) as client:
        before = same_host_web.jobs()
        anonymous = client.post(
            nginx + WRITE, headers={**JSON, "X-Remote-User": "mallory@example.com"}
        )
        assert anonymous.status_code == 401 and "BuildAPI" in anonymous.headers["www-authenticate"]
        assert same_host_web.jobs() == before
        forged = {
            "X-Remote-User": "mallory@example.com",
            "X-Forwarded-For": "10.9.9.9",
            "X-Forwarded-Proto": "http",
            "Forwarded": "for=6.6.6.6",
        }
        response = client.post(nginx + WRITE, headers={**JSON, **forged}, auth=(USER, PASSWORD))
    assert response.status_code == 202, response.text
    job_id = response.json()["request_id"]
    assert (job_id, "new_build_at_revision", USER) in same_host_web.jobs()
    line = same_host_web.audit_line(job_id)
    # nginx appended the real client to the forged list; the nearest non-proxy address wins.
    assert f"by {USER} (proxy) from 127.0.0.1 (a trusted proxy, for 127.0.0.2):" in line
    assert "6.6.6.6" not in line


def test_through_nginx_the_pages_are_https_and_their_forms_work(
    nginx: str, same_host_web: Web
) -> None:
    page_path = same_host_web.revision_page()
    transport = httpx.HTTPTransport(local_address="127.0.0.2", verify=False)
    with httpx.Client(transport=transport, timeout=30, auth=(USER, PASSWORD)) as browser:
        page = browser.get(nginx + page_path, headers={"Accept": "text/html"})
        assert page.status_code == 200, page.text
        cookie = page.headers["set-cookie"]
        assert cookie.startswith("__Host-buildapi_csrf=") and "Secure" in cookie
        token = re.findall(r'name="csrf_token" value="([^"]+)"', page.text)[0]
        same_origin = {"Origin": nginx, "Sec-Fetch-Site": "same-origin", "Accept": "text/html"}
        posted = browser.post(nginx + WRITE, data={"csrf_token": token}, headers=same_origin)
        assert posted.status_code == 302, posted.text
        cross = browser.post(
            nginx + page_path,
            data={"csrf_token": token},
            headers={**same_origin, "Origin": "https://evil.example"},
        )
        assert cross.status_code == 403
