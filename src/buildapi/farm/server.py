"""Serve the masters' web interface and the clobberer from a background thread."""

from __future__ import annotations

import socket
import threading
from collections.abc import Mapping
from urllib.parse import urlparse

import uvicorn

from buildapi.farm.farm import Farm
from buildapi.farm.web import create_farm_app
from buildapi.layout import Master


def clobberer_address(url: str) -> tuple[str, int]:
    parsed = urlparse(url)
    return parsed.hostname or "127.0.0.1", parsed.port or 80


class FarmServer:
    """Listens on every enabled master's `hostname:http_port` and on the clobberer's address.
    The sockets are bound before start() returns, so callers can connect at once."""

    def __init__(self, farm: Farm, clobberer_url: str) -> None:
        masters = [master for master in farm.layout.masters if master.enabled]
        self.clobberer = clobberer_address(clobberer_url)
        ports: Mapping[int, Master] = {master.http_port: master for master in masters}
        addresses = [(master.hostname, master.http_port) for master in masters]
        self.sockets = [_listen(host, port) for host, port in [*addresses, self.clobberer]]
        app = create_farm_app(farm, ports, self.clobberer[1])
        config = uvicorn.Config(app, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._serve, name="farm-http", daemon=True)

    def _serve(self) -> None:
        self.server.run(sockets=self.sockets)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        for sock in self.sockets:
            sock.close()


def _listen(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OSError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    sock.listen(128)
    return sock


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """`count` distinct ports that are free right now on `host`."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind((host, 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()
