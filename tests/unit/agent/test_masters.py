"""The HTTP calls the agent makes, as the masters and the clobberer receive them."""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import parse_qsl

import httpx
import pytest

from buildapi.agent.masters import MasterError, MastersClient
from buildapi.layout import Master

MASTER = Master(
    name="bm01",
    hostname="master.example",
    http_port=8010,
    pb_port=9010,
    db_name="master.example:/builds/master",
    role="build",
)
BUILDER = "WINNT 5.2 mozilla-inbound pgo-build"
BUILD_PATH = "/builders/WINNT%205.2%20mozilla-inbound%20pgo-build/builds/12"


def client(
    handler: Callable[[httpx.Request], httpx.Response], token: str = ""
) -> tuple[MastersClient, list[httpx.Request]]:
    """A client whose calls go to `handler`, and the list of requests it made."""
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    transport = httpx.MockTransport(record)
    return MastersClient(3.0, "http://clobber.example/clobberer", token, transport), seen


def test_slave_comes_from_the_first_buildslaves_link() -> None:
    page = (
        '<a href="../../../builders/x">builder</a>'
        '<a href="../../../buildslaves/w64-ix-slave%2001">slave</a>'
        '<a href="/buildslaves/other">other</a>'
    )
    masters, seen = client(lambda request: httpx.Response(200, text=page))
    assert masters.slave_of_build(MASTER, BUILDER, 12) == "w64-ix-slave 01"
    assert seen[0].url.raw_path.decode() == BUILD_PATH
    unlinked, _seen = client(lambda request: httpx.Response(200, text="<p>no link</p>"))
    assert unlinked.slave_of_build(MASTER, BUILDER, 12) is None


def test_clobber_posts_json_with_the_bearer_token() -> None:
    masters, seen = client(lambda request: httpx.Response(200, json={"status": "OK"}), "s3cret")
    masters.clobber("slave-1", BUILDER)
    (request,) = seen
    assert request.method == "POST"
    assert str(request.url) == "http://clobber.example/clobberer"
    assert request.headers["authorization"] == "Bearer s3cret"
    assert json.loads(request.content) == [{"slave": "slave-1", "buildername": BUILDER}]
    untokened, seen = client(lambda request: httpx.Response(200))
    untokened.clobber("slave-1", BUILDER)
    assert "authorization" not in seen[0].headers


def test_stop_takes_a_302_without_following_it() -> None:
    masters, seen = client(lambda request: httpx.Response(302, headers={"location": BUILD_PATH}))
    masters.stop_build(MASTER, BUILDER, 12, "me@example.com", "why")
    (request,) = seen
    assert request.url.raw_path.decode() == f"{BUILD_PATH}/stop"
    assert request.content == b"comments=why&username=me%40example.com"


@pytest.mark.parametrize("status", [200, 404, 409, 500])
def test_other_answers_to_a_stop_are_errors(status: int) -> None:
    masters, _seen = client(lambda request: httpx.Response(status, text="nope"))
    with pytest.raises(MasterError, match=f"bm01 answered {status}: nope"):
        masters.stop_build(MASTER, BUILDER, 12, "me@example.com", "why")


def test_a_timeout_is_an_error() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    masters, _seen = client(slow)
    with pytest.raises(MasterError, match="did not answer in time"):
        masters.send_change(
            MASTER,
            branch="try",
            revision="a" * 40,
            revlink="x",
            repository="https://hg.example.com/try",
            who="me",
            comments="c",
        )


def test_a_change_carries_what_every_0_8_master_reads() -> None:
    """0.8.2 reads `who` and stores repository and project in NOT NULL columns; 0.8.3 and
    later read `author` and need a string project."""
    masters, seen = client(lambda request: httpx.Response(200, text="[]"))
    masters.send_change(
        MASTER,
        branch="mozilla-central",
        revision="a" * 40,
        revlink="https://hg.example.com/mozilla-central/rev/" + "a" * 40,
        repository="https://hg.example.com/mozilla-central",
        who="me@example.com",
        comments="c",
    )
    (request,) = seen
    form = dict(parse_qsl(request.content.decode(), keep_blank_values=True))
    assert request.url.path == "/change_hook/base"
    assert form["who"] == form["author"] == "me@example.com"
    assert form["repository"] == "https://hg.example.com/mozilla-central"
    assert form["project"] == ""
