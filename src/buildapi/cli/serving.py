"""`buildapi web` and `buildapi demo`: bind the port first, then serve the app with uvicorn;
the demo also runs the farm, the agent and the dumps in the same process."""

from __future__ import annotations

import argparse
import contextlib
import socket
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

from buildapi.cli.admin import create_token
from buildapi.cli.databases import create_databases, open_databases
from buildapi.cli.farming import write_farm_history
from buildapi.config import Settings
from buildapi.db.compatibility import refuse_unsupported_schema
from buildapi.db.engines import Databases
from buildapi.errors import ConfigError

if TYPE_CHECKING:
    from buildapi.layout import FarmLayout

DEMO_HISTORY_DAYS = 2.0
DEMO_JOBS_PER_DAY = 3000
DEMO_USER = "demo@example.com"


def run_web(_args: argparse.Namespace, settings: Settings) -> int:
    from buildapi.layout import load_layout

    listener = listen(settings)
    with _closed_on_error(listener):
        databases = open_databases(settings, "web")
    try:
        refuse_unsupported_schema(databases.schedulerdb)
        layout = load_layout(settings)
        with _embedded_agent(settings, databases, layout):
            serve(settings, layout, databases, listener)
    finally:
        databases.dispose()
    return 0


@contextlib.contextmanager
def _embedded_agent(settings: Settings, databases: Databases, layout: FarmLayout) -> Iterator[None]:
    """No agent can reach a memory:// broker from outside this process, so the web carries out
    its job requests itself rather than accept jobs that would never run."""
    if not settings.broker_url.startswith("memory://"):
        yield
        return
    from buildapi.agent.launch import agent_in_background

    print(
        "buildapi web: broker_url is memory://, so this process runs the agent too; "
        "set broker_url to amqp://... to run agents apart",
        flush=True,
    )
    with agent_in_background(settings, databases, layout):
        yield


def run_demo(args: argparse.Namespace, settings: Settings) -> int:
    from buildapi.agent.launch import agent_in_background
    from buildapi.farm.launch import RunningFarm, build_farm, with_free_ports
    from buildapi.layout import load_layout

    listener = listen(settings)
    with _closed_on_error(listener):
        databases = create_databases(settings)
    try:
        refuse_unsupported_schema(databases.schedulerdb)
        layout = load_layout(settings)
        if _is_empty(databases):
            write_farm_history(settings, layout, databases, args.history_days, DEMO_JOBS_PER_DAY)
        settings = with_free_ports(settings, layout)
        layout = load_layout(settings)
        print(
            f"BuildAPI demo: data in {settings.data_dir.resolve()}, farm seed "
            f"{settings.farm_seed} at {settings.farm_speed:g}x",
            flush=True,
        )
        token = create_token(databases, DEMO_USER, ())
        with (
            RunningFarm(build_farm(settings, layout, databases), settings),
            _dumps_in_background(settings, layout, databases),
            agent_in_background(settings, databases, layout),
        ):
            _announce_demo_token(settings, databases, token)
            serve(settings, layout, databases, listener)
    finally:
        databases.dispose()
    return 0


@contextlib.contextmanager
def _closed_on_error(listener: socket.socket) -> Iterator[None]:
    try:
        yield
    except BaseException:
        listener.close()
        raise


def _is_empty(databases: Databases) -> bool:
    from buildapi.db.queries.buildrequests import count_requests

    with databases.schedulerdb.connect() as connection:
        return count_requests(connection) == 0


def _announce_demo_token(settings: Settings, databases: Databases, token: str) -> None:
    from buildapi.db.queries.changes import latest_revision

    with databases.schedulerdb.connect() as connection:
        revision = latest_revision(connection, "try") or "<revision>"
    base = f"http://{settings.host}:{settings.port}{settings.mount_prefix}"
    print(
        f"API token for {DEMO_USER} (made for this run; `buildapi token create` makes more):\n"
        f"  {token}\n"
        f"Rebuild a try push with it, then follow the job it answers with:\n"
        f"  curl -u {DEMO_USER}:{token} -H 'Accept: application/json' "
        f"-X POST {base}/self-serve/try/rev/{revision}",
        flush=True,
    )


@contextlib.contextmanager
def _dumps_in_background(
    settings: Settings, layout: FarmLayout, databases: Databases
) -> Iterator[None]:
    from buildapi.dumps.run import refresh_forever

    stop = threading.Event()
    thread = threading.Thread(
        target=refresh_forever,
        args=(databases, layout, settings.dumps_path, settings.dumps_every_seconds, stop),
        kwargs={"daily": True},
        name="dumps",
        daemon=True,
    )
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)


def listen(settings: Settings) -> socket.socket:
    """The server's socket, bound before anything starts or changes: a port that is taken is
    one line and exit 1, not a started farm and a traceback."""
    address = f"{settings.host}:{settings.port}"
    try:
        family, kind, protocol, _, where = socket.getaddrinfo(
            settings.host, settings.port, type=socket.SOCK_STREAM
        )[0]
        listener = socket.socket(family, kind, protocol)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {address}: {exc.strerror or exc}") from None
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(where)
        listener.listen(socket.SOMAXCONN)  # early clients wait in the backlog, not refused
    except OSError as exc:
        listener.close()
        raise ConfigError(f"cannot listen on {address}: {exc.strerror or exc}") from None
    return listener


def serve(
    settings: Settings, layout: FarmLayout, databases: Databases, listener: socket.socket
) -> None:
    import uvicorn

    from buildapi.web.app import create_app

    app = create_app(settings, databases, layout)
    url = f"http://{settings.host}:{settings.port}{settings.mount_prefix}/"
    print(f"BuildAPI is serving {url}", flush=True)
    # proxy_headers off: uvicorn would rewrite the client address from X-Forwarded-For before
    # the app could check who sent it; the app reads those headers from trusted proxies only.
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        proxy_headers=False,
    )
    uvicorn.Server(config).run(sockets=[listener])
