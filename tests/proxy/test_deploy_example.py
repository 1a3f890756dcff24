"""The nginx example of docs/deploy.md, run as written (ports and paths aside) in front of
`buildapi web --workers 2` under the /buildapi mount prefix on RabbitMQ: nginx authenticates
with its htpasswd file and names the user in X-Remote-User, which BuildAPI believes from it."""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterator
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from tests.conftest import broker_names
from tests.processes import is_gone, wait_for_worker, wait_until
from tests.proxy.conftest import DEPLOY_DOC, PASSWORD, USER, Web, documented_nginx, start_web
from tests.services import service_url

PREFIX = "/buildapi"
WRITE = f"{PREFIX}/self-serve/try/rev/abcdef123456"  # new builds at any revision
JSON = {"Accept": "application/json"}
HTML = {"Accept": "text/html"}


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Web, list[int]]]:
    """nginx's URL, the web server behind it and its two workers' pids."""
    service_url("nginx")
    env = {
        "BUILDAPI_MOUNT_PREFIX": PREFIX,
        "BUILDAPI_BROKER_URL": service_url("amqp"),
        **{f"BUILDAPI_{key.upper()}": value for key, value in broker_names().items()},
    }
    data = tmp_path_factory.mktemp("deployed")
    options = ["--workers", "2"]
    with start_web(data, ["127.0.0.1"], options=options, env=env) as web:
        workers = [wait_for_worker(web.output, web.pid) for _ in range(2)]
        upstream = {"server 127.0.0.1:8000;": f"server {urlsplit(web.url).netloc};"}
        with documented_nginx(DEPLOY_DOC, upstream, tmp_path_factory.mktemp("nginx")) as url:
            yield url, web, workers


def browser(**options: object) -> httpx.Client:
    """A client on another loopback address than nginx's, as a remote browser would be."""
    transport = httpx.HTTPTransport(local_address="127.0.0.2", verify=False)
    return httpx.Client(transport=transport, timeout=30, **options)  # type: ignore[arg-type]


def test_a_write_is_the_htpasswd_users_whatever_user_the_client_names(deployed) -> None:  # type: ignore[no-untyped-def]
    nginx, web, _ = deployed
    forged = {**JSON, "X-Remote-User": "mallory@example.com"}
    with browser(auth=(USER, PASSWORD)) as client:
        response = client.post(nginx + WRITE, headers=forged)
        assert response.status_code == 202, response.text
        job_id = response.json()["request_id"]
        assert (job_id, "new_build_at_revision", USER) in web.jobs()
        # A read as that user: readers who are not logged in are not shown who asked.
        job = client.get(f"{nginx}{PREFIX}/self-serve/jobs/{job_id}?format=json")
    assert job.status_code == 200, job.text
    assert job.json()["who"] == USER
    anonymous = httpx.get(f"{web.url}{PREFIX}/self-serve/jobs/{job_id}?format=json", timeout=30)
    assert anonymous.status_code == 200 and anonymous.json()["who"] is None


def test_an_unauthenticated_write_is_refused_by_nginx(deployed) -> None:  # type: ignore[no-untyped-def]
    nginx, web, _ = deployed
    before = web.jobs()
    with browser() as client:
        anonymous = client.post(
            nginx + WRITE, headers={**JSON, "X-Remote-User": "mallory@example.com"}
        )
        wrong = client.post(nginx + WRITE, headers=JSON, auth=(USER, "not the password"))
    for response in (anonymous, wrong):
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == 'Basic realm="BuildAPI"'
        assert response.headers["server"].startswith("nginx")  # BuildAPI never saw it
    assert web.jobs() == before


def test_pages_links_and_redirects_stay_under_the_prefix(deployed) -> None:  # type: ignore[no-untyped-def]
    nginx, web, _ = deployed
    with browser(auth=(USER, PASSWORD)) as client:
        landing = client.get(f"{nginx}{PREFIX}/", headers=HTML)
        assert landing.status_code == 200, landing.text
        links = re.findall(r'(?:href|src|action)="(/[^"]*)"', landing.text)
        assert links and all(link.startswith(f"{PREFIX}/") for link in links), links
        bare = client.get(f"{nginx}{PREFIX}")
        assert bare.status_code == 301
        assert urlsplit(bare.headers["location"]).path == f"{PREFIX}/"
        slash = client.get(f"{nginx}{PREFIX}/self-serve/jobs/?format=json")
        assert slash.status_code == 301
        assert slash.headers["location"].endswith(f"{PREFIX}/self-serve/jobs?format=json")
        assert client.get(urljoin(nginx, slash.headers["location"])).status_code == 200
        page = client.get(f"{nginx}{PREFIX}{web.revision_page()}", headers=HTML)
        assert page.status_code == 200, page.text
        token = re.findall(r'name="csrf_token" value="([^"]+)"', page.text)[0]
        same_origin = {**HTML, "Origin": nginx, "Sec-Fetch-Site": "same-origin"}
        posted = client.post(nginx + WRITE, data={"csrf_token": token}, headers=same_origin)
        assert posted.status_code == 302, posted.text
        job_page = rf"(https://[^/]+)?{PREFIX}/self-serve/jobs/\d+"
        assert re.fullmatch(job_page, posted.headers["location"]), posted.headers["location"]
        outside = client.get(f"{nginx}/self-serve/jobs?format=json")
    assert outside.status_code == 404 and outside.headers["server"].startswith("nginx")


def test_a_worker_killed_behind_nginx_costs_no_request(deployed) -> None:  # type: ignore[no-untyped-def]
    """nginx keeps connections to the workers open; those of a dead worker close with it and
    nginx drops them, so the next requests reach the other worker."""
    nginx, web, workers = deployed
    with browser(auth=(USER, PASSWORD)) as client:
        for _ in range(4):  # connections to both workers in nginx's keepalive pool
            assert client.get(f"{nginx}{PREFIX}/self-serve/jobs?format=json").status_code == 200
        victim = workers.pop(0)
        os.kill(victim, signal.SIGKILL)
        wait_until(lambda: is_gone(victim), 10, f"worker {victim} dead")
        statuses = [
            client.get(f"{nginx}{PREFIX}/self-serve/jobs?format=json").status_code
            for _ in range(10)
        ]
    assert statuses == [200] * 10
    workers.append(wait_for_worker(web.output, web.pid))
