"""Who is on the other end of the socket, and what a trusted proxy says about the client.

This is the one place that decides trust. The socket peer is a fact; `Forwarded` and
`X-Forwarded-*` are claims, believed only when the peer is one of `auth_trusted_proxies`, and
only of the kind `proxy_forwarded_headers` says those proxies write: a proxy passes on the
headers it does not set itself, so the other kind may have been written by the client.
The server must hand us the real socket peer: `buildapi web` runs uvicorn with its own
proxy-header handling off, since uvicorn would otherwise rewrite the client address from
`X-Forwarded-For` before we could check who sent it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.requests import HTTPConnection

from buildapi.config import Settings
from buildapi.selfserve.auth import in_networks

# One `key=value` pair of a Forwarded element (RFC 7239), the value a token or a quoted string.
_PAIR = re.compile(r'\s*([A-Za-z]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;,\s]*)\s*')
_PORT = re.compile(r":\d+$")


@dataclass(frozen=True)
class Peer:
    """The socket peer, and the client and scheme as the request should be seen."""

    address: str | None
    trusted: bool
    # What a trusted proxy said, None when nothing was said or the peer is not trusted.
    forwarded_for: str | None = None
    forwarded_proto: str | None = None
    socket_scheme: str = "http"

    @property
    def client(self) -> str | None:
        """The client's address: the proxy's word for it, or the socket peer."""
        return self.forwarded_for or self.address

    @property
    def scheme(self) -> str:
        return self.forwarded_proto or self.socket_scheme

    def describe(self) -> str:
        """For the audit log: the socket peer, then what a proxy said, kept apart."""
        if self.forwarded_for is None:
            return self.address or "-"
        return f"{self.address} (a trusted proxy, for {self.forwarded_for})"


def peer_of(connection: HTTPConnection, settings: Settings) -> Peer:
    """The request's Peer, worked out once and kept on the request."""
    known = getattr(connection.state, "peer", None)
    if known is None:
        known = read_peer(connection, settings)
        connection.state.peer = known
    return known


def read_peer(connection: HTTPConnection, settings: Settings) -> Peer:
    address = connection.client.host if connection.client else None
    socket_scheme = connection.scope.get("scheme", "http")
    trusted = settings.auth_trusted_proxies
    if not in_networks(address, trusted):
        return Peer(address, False, socket_scheme=socket_scheme)
    read = _forwarded if settings.proxy_forwarded_headers == "forwarded" else _x_forwarded
    hops, proto = read(connection.headers)
    return Peer(
        address,
        True,
        forwarded_for=_client_of(hops, trusted),
        forwarded_proto=proto if proto in ("http", "https") else None,
        socket_scheme=socket_scheme,
    )


def _forwarded(headers: Headers) -> tuple[list[str], str]:
    """The chain of client addresses (nearest last) and the proto of RFC 7239 `Forwarded`;
    the nearest proxy's element, the last, says the proto."""
    elements = [_pairs(element) for element in _split_elements(headers.getlist("forwarded"))]
    hops = [_node(element["for"]) for element in elements if "for" in element]
    return hops, (elements[-1].get("proto", "") if elements else "").lower()


def _x_forwarded(headers: Headers) -> tuple[list[str], str]:
    """The same from `X-Forwarded-For` (each proxy appends) and `X-Forwarded-Proto`."""
    hops = [hop.strip() for value in headers.getlist("x-forwarded-for") for hop in value.split(",")]
    return [hop for hop in hops if hop], _last(headers.getlist("x-forwarded-proto")).lower()


def _client_of(hops: list[str], trusted_proxies: list[str]) -> str | None:
    """The nearest address that is not one of our proxies: anything left of it was written by
    the client itself and proves nothing."""
    for hop in reversed(hops):
        if not in_networks(hop, trusted_proxies):
            return hop
    return hops[0] if hops else None


def _split_elements(values: list[str]) -> list[str]:
    """Forwarded elements, split on commas outside quoted strings."""
    elements: list[str] = []
    for value in values:
        elements.extend(re.findall(r'(?:[^,"]|"(?:[^"\\]|\\.)*")+', value))
    return [element for element in elements if element.strip()]


def _pairs(element: str) -> dict[str, str]:
    pairs = {}
    for part in re.findall(r'(?:[^;"]|"(?:[^"\\]|\\.)*")+', element):
        match = _PAIR.fullmatch(part)
        if match:
            value = match.group(2)
            if value.startswith('"'):
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            pairs[match.group(1).lower()] = value
    return pairs


def _node(value: str) -> str:
    """The address of a Forwarded `for=` node: `[v6]:port`, `v4:port`, or an obfuscated name."""
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return _PORT.sub("", value) if value.count(":") == 1 else value


def _last(values: list[str]) -> str:
    """The last comma-separated value of a header that may be repeated."""
    items = [item.strip() for value in values for item in value.split(",")]
    return items[-1] if items and items[-1] else ""
