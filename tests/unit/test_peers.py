"""The trust decision: forwarding headers count only from a trusted socket peer, only of the
configured kind, and only as far as the nearest address that is not a proxy of ours."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from buildapi.config import Settings
from buildapi.web.peers import Peer, read_peer


def request(peer: str, *headers: tuple[str, str], scheme: str = "http") -> Request:
    return Request(
        {
            "type": "http",
            "method": "GET",
            "path": "/",
            "scheme": scheme,
            "headers": [(name.lower().encode(), value.encode()) for name, value in headers],
            "client": (peer, 50000),
        }
    )


def settings(*trusted: str, kind: str = "x-forwarded") -> Settings:
    return Settings(auth_trusted_proxies=list(trusted), proxy_forwarded_headers=kind)


def test_an_untrusted_peer_is_taken_at_its_address_whatever_it_claims() -> None:
    seen = read_peer(
        request(
            "127.0.0.1",
            ("X-Forwarded-For", "10.0.0.5"),
            ("X-Forwarded-Proto", "https"),
            ("Forwarded", "for=10.0.0.5;proto=https"),
        ),
        settings("10.0.0.5"),
    )
    assert seen == Peer("127.0.0.1", False)
    assert (seen.client, seen.scheme, seen.describe()) == ("127.0.0.1", "http", "127.0.0.1")


@pytest.mark.parametrize(
    ("forwarded_for", "client"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("10.0.0.5, 203.0.113.9", "203.0.113.9"),  # the client wrote the left part
        ("203.0.113.9, 10.0.0.6", "203.0.113.9"),  # a second proxy of ours in between
        ("10.0.0.6", "10.0.0.6"),  # only our proxies: the farthest of them
        ("", None),
    ],
)
def test_the_client_is_the_nearest_address_that_is_not_a_proxy_of_ours(
    forwarded_for: str, client: str | None
) -> None:
    seen = read_peer(
        request("10.0.0.5", ("X-Forwarded-For", forwarded_for)), settings("10.0.0.0/24")
    )
    assert seen.trusted and seen.forwarded_for == client
    assert seen.client == (client or "10.0.0.5")


def test_repeated_x_forwarded_headers_read_as_one_list() -> None:
    seen = read_peer(
        request(
            "127.0.0.1",
            ("X-Forwarded-For", "198.51.100.1"),
            ("X-Forwarded-For", "203.0.113.9"),
            ("X-Forwarded-Proto", "http, https"),
        ),
        settings("127.0.0.1"),
    )
    assert (seen.client, seen.scheme) == ("203.0.113.9", "https")
    assert seen.describe() == "127.0.0.1 (a trusted proxy, for 203.0.113.9)"


def test_rfc_7239_forwarded_is_read_only_when_configured() -> None:
    headers = (
        ("Forwarded", 'for="[2001:db8::1]:4711";proto=https, for=198.51.100.7:80'),
        ("X-Forwarded-For", "192.0.2.1"),
    )
    forwarded = read_peer(request("127.0.0.1", *headers), settings("127.0.0.1", kind="forwarded"))
    assert (forwarded.client, forwarded.scheme) == ("198.51.100.7", "http")
    x_forwarded = read_peer(request("127.0.0.1", *headers), settings("127.0.0.1"))
    assert (x_forwarded.client, x_forwarded.scheme) == ("192.0.2.1", "http")


def test_forwarded_elements_with_quoted_commas_and_obfuscated_nodes() -> None:
    seen = read_peer(
        request("127.0.0.1", ("Forwarded", 'for="_hidden,x";by=_proxy, for="[::1]";proto=HTTPS')),
        settings("127.0.0.1", "::1", kind="forwarded"),
    )
    assert seen.forwarded_for == "_hidden,x"  # [::1] is a proxy of ours: skipped
    assert seen.scheme == "https"


def test_an_unknown_scheme_is_not_believed() -> None:
    seen = read_peer(
        request("127.0.0.1", ("X-Forwarded-Proto", "gopher"), scheme="https"),
        settings("127.0.0.1"),
    )
    assert seen.scheme == "https"
