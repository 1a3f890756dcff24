"""The `buildapi` command: parse arguments, build objects from Settings, call one function."""

from __future__ import annotations

import argparse
import contextlib
import datetime
import logging
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from buildapi import __version__
from buildapi.config import Settings, load_settings
from buildapi.db.compatibility import refuse_unsupported_schema
from buildapi.db.engines import Databases
from buildapi.errors import BuildAPIError, ConfigError
from buildapi.vocabulary import POOL_NAMES, POOLS

Handler = Callable[[argparse.Namespace, Settings], int]

DEMO_HISTORY_DAYS = 2.0
DEMO_JOBS_PER_DAY = 3000
DEMO_USER = "demo@example.com"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings(
            getattr(args, "config", None),
            data_dir=getattr(args, "data_dir", None),
            host=getattr(args, "host", None),
            port=getattr(args, "port", None),
            farm_seed=getattr(args, "seed", None),
            farm_speed=getattr(args, "speed", None),
        )
    except BuildAPIError as exc:
        print(f"buildapi: {exc.msg}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if settings.log_level != "DEBUG":
        logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        return args.handler(args, settings)
    except BuildAPIError as exc:
        print(f"buildapi: {exc.msg}", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        print(f"buildapi: database error: {_first_line(exc)}", file=sys.stderr)
        return 1


def build_parser() -> argparse.ArgumentParser:
    # SUPPRESS: an option given before a nested subcommand is not reset by the subcommand.
    common = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    common.add_argument(
        "--config", type=Path, help="TOML configuration file (default: $BUILDAPI_CONFIG)"
    )
    common.add_argument("--data-dir", type=Path, help="directory of the embedded SQLite databases")

    parser = argparse.ArgumentParser(
        prog="buildapi", description="Live views, reports and self-serve for a build farm."
    )
    parser.add_argument("--version", action="version", version=f"buildapi {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", parents=[common], help="run everything on embedded defaults")
    _add_listen_options(demo)
    _add_farm_options(demo)
    demo.add_argument(
        "--history-days",
        type=_positive_float,
        default=DEMO_HISTORY_DAYS,
        help=f"days of past builds written on first start (default {DEMO_HISTORY_DAYS})",
    )
    demo.set_defaults(handler=run_demo)

    farm = commands.add_parser(
        "farm", parents=[common], help="run the simulated build farm, or write its history"
    )
    _add_farm_options(farm)
    farm.set_defaults(handler=run_farm)
    farm_commands = farm.add_subparsers(dest="farm_command", metavar="ACTION")
    history = farm_commands.add_parser(
        "history", parents=[common], help="write days of past builds into the databases, fast"
    )
    history.add_argument("--days", type=_positive_float, required=True, help="days of history")
    history.add_argument(
        "--jobs-per-day", type=_positive_int, required=True, help="build requests per day"
    )
    history.add_argument(
        "--seed", type=int, default=argparse.SUPPRESS, help="seed of the random choices"
    )
    history.add_argument(
        "--end", type=_positive_float, help="epoch seconds the history ends at (default now)"
    )
    history.set_defaults(handler=run_farm_history)

    web = commands.add_parser("web", parents=[common], help="run the HTTP server")
    _add_listen_options(web)
    web.set_defaults(handler=run_web)

    dumps = commands.add_parser(
        "dumps", parents=[common], help="write builds-pending, builds-running and builds-4hr"
    )
    dumps.add_argument("--out", type=Path, help="directory to write to (default: dumps_dir)")
    dumps.add_argument("--every", type=_positive_float, help="rewrite every SECONDS until stopped")
    dumps.add_argument(
        "--day",
        type=_date,
        action="append",
        default=[],
        help="also write builds-YYYY-MM-DD.js.gz for this UTC day (repeatable)",
    )
    dumps.set_defaults(handler=run_dumps)

    db = commands.add_parser("db", help="create or migrate the databases")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser(
        "init", parents=[common], help="create all three schemas (safe to repeat)"
    ).set_defaults(handler=run_db_init)
    db_commands.add_parser(
        "upgrade", parents=[common], help="migrate BuildAPI's own database to the newest schema"
    ).set_defaults(handler=run_db_upgrade)

    token = commands.add_parser("token", help="create, list and revoke API tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    create = token_commands.add_parser(
        "create", parents=[common], help="make a token; it is printed once, on the last line"
    )
    create.add_argument("--user", required=True, type=_user_name, help="who the token acts as")
    create.add_argument(
        "--groups", type=_group_list, default=(), help="comma-separated groups, e.g. releng"
    )
    create.set_defaults(handler=run_token_create)
    listing = token_commands.add_parser(
        "list", parents=[common], help="list tokens (never the secrets)"
    )
    listing.add_argument("--user", help="only this user's tokens")
    listing.set_defaults(handler=run_token_list)
    revoke = token_commands.add_parser("revoke", parents=[common], help="revoke a token by id")
    revoke.add_argument("id", type=_positive_int, help="the token's id (see `token list`)")
    revoke.set_defaults(handler=run_token_revoke)

    agent = commands.add_parser("agent", parents=[common], help="run the self-serve agent")
    agent.add_argument(
        "--drain",
        action="store_true",
        help="carry out what is queued, then exit once the queue is idle (for cron)",
    )
    agent.set_defaults(handler=run_agent)

    mail = commands.add_parser(
        "mail-waittimes", parents=[common], help="e-mail the wait-time report of a pool"
    )
    mail.add_argument("--pool", default=POOLS["build"], help=f"one of {', '.join(POOL_NAMES)}")
    mail.add_argument("--to", action="append", required=True, help="recipient (repeatable)")
    mail.add_argument("--from", dest="sender", default="buildapi@localhost", help="sender")
    mail.add_argument("--smtp", type=_host_port, default=("localhost", 25), help="HOST:PORT")
    mail.add_argument("--starttime", help="epoch seconds or YYYY-MM-DD (default: end - 24 h)")
    mail.add_argument("--endtime", help="epoch seconds or YYYY-MM-DD (default: now)")
    mail.add_argument("--mpb", type=int, help="minutes per block (default 15)")
    mail.add_argument("--maxb", type=int, help="largest block in minutes, 0 = no cap (default 120)")
    mail.set_defaults(handler=run_mail_waittimes)
    return parser


def _add_listen_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default 8000)")


def _add_farm_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--seed", type=int, default=argparse.SUPPRESS, help="seed of the simulated farm"
    )
    parser.add_argument(
        "--speed",
        type=_positive_float,
        default=argparse.SUPPRESS,
        help="farm seconds per real second: durations and push rates (default 60)",
    )


def _host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"not HOST:PORT: {text!r}")
    return host, int(port)


def _user_name(text: str) -> str:
    if not text.strip() or any(char in text for char in ":,\n"):
        raise argparse.ArgumentTypeError(f"not a usable user name: {text!r}")
    return text.strip()


def _group_list(text: str) -> tuple[str, ...]:
    groups = tuple(group.strip() for group in text.split(",") if group.strip())
    if any(not group.replace("-", "").replace("_", "").isalnum() for group in groups):
        raise argparse.ArgumentTypeError(f"groups are comma-separated words: {text!r}")
    return groups


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from None


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0: {text!r}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0: {text!r}")
    return value


def run_mail_waittimes(args: argparse.Namespace, settings: Settings) -> int:
    """Exit 0 when every recipient took the mail, 2 when some refused it, 1 when it failed."""
    import smtplib
    import time

    from buildapi.layout import load_layout
    from buildapi.reports import mail
    from buildapi.reports.waittimes import BlockParams, pool_wait_times
    from buildapi.reports.window import make_window, parse_time

    now = time.time()
    zone = settings.zone
    window = make_window(
        parse_time(args.starttime, "--starttime", zone),
        parse_time(args.endtime, "--endtime", zone, end=True),
        None,
        now=now,
        max_days=settings.reports_max_window_days,
    )
    blocks = BlockParams.checked(args.mpb, args.maxb)
    databases = Databases.from_settings(settings)
    try:
        with databases.schedulerdb.connect() as connection:
            report = pool_wait_times(connection, load_layout(settings), args.pool, window, blocks)
    finally:
        databases.dispose()
    message = mail.make_message(report, args.sender, args.to, zone, now)
    try:
        refused = mail.send(mail.SmtpServer(*args.smtp), message, args.to)
    except (OSError, smtplib.SMTPException) as exc:
        print(
            f"buildapi mail-waittimes: cannot send via {args.smtp[0]}:{args.smtp[1]}: {exc}",
            file=sys.stderr,
        )
        return 1
    if refused:
        listed = "; ".join(f"{address} ({reason})" for address, reason in sorted(refused.items()))
        print(f"buildapi mail-waittimes: refused: {listed}", file=sys.stderr)
        return 2
    return 0


def run_db_init(_args: argparse.Namespace, settings: Settings) -> int:
    databases = Databases.from_settings(settings)
    try:
        _initialise(databases)
    finally:
        databases.dispose()
    for name in ("schedulerdb", "statusdb", "buildapi_db"):
        print(f"{name}: ready ({_safe_url(settings.database_url(name))})")
    return 0


def run_db_upgrade(_args: argparse.Namespace, settings: Settings) -> int:
    from buildapi.db.setup import upgrade_buildapi_db

    databases = Databases.from_settings(settings)
    try:
        revision = upgrade_buildapi_db(databases.buildapi_db)
    finally:
        databases.dispose()
    print(f"buildapi_db: at revision {revision}")
    return 0


def run_token_create(args: argparse.Namespace, settings: Settings) -> int:
    token = _create_token(settings, args.user, args.groups)
    groups = ",".join(args.groups) or "none"
    print(f"token for {args.user} (groups: {groups}); shown once, store it now:")
    print(token)
    return 0


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


def _create_token(settings: Settings, user: str, groups: tuple[str, ...]) -> str:
    import time

    from buildapi.db.queries.tokens import add_token
    from buildapi.selfserve.auth import hash_token, new_token

    token = new_token()
    databases = Databases.from_settings(settings)
    try:
        _initialise(databases)
        with databases.buildapi_db.connect() as connection:
            add_token(connection, user, groups, hash_token(token), int(time.time()))
    finally:
        databases.dispose()
    return token


def run_token_list(args: argparse.Namespace, settings: Settings) -> int:
    from buildapi.db.queries.tokens import list_tokens

    databases = Databases.from_settings(settings)
    try:
        with databases.buildapi_db.connect() as connection:
            rows = list_tokens(connection, getattr(args, "user", None))
    finally:
        databases.dispose()
    print(f"{'id':>5}  {'user':<30} {'groups':<20} {'created':<20} {'last used':<20} state")
    for row in rows:
        state = "revoked" if row.revoked_at else "live"
        print(
            f"{row.id:>5}  {row.user:<30} {','.join(row.groups) or '-':<20} "
            f"{_when(row.created_at):<20} {_when(row.last_used_at):<20} {state}"
        )
    return 0


def run_token_revoke(args: argparse.Namespace, settings: Settings) -> int:
    import time

    from buildapi.db.queries.tokens import revoke_token

    databases = Databases.from_settings(settings)
    try:
        with databases.buildapi_db.connect() as connection:
            revoked = revoke_token(connection, args.id, int(time.time()))
    finally:
        databases.dispose()
    if not revoked:
        print(f"buildapi token revoke: no live token with id {args.id}", file=sys.stderr)
        return 1
    print(f"token {args.id} revoked")
    return 0


def _when(epoch: int | None) -> str:
    if not epoch:
        return "-"
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


AGENT_IDLE_SECONDS = 5.0


def run_agent(args: argparse.Namespace, settings: Settings) -> int:
    import signal

    from buildapi.agent.launch import agent_of
    from buildapi.layout import load_layout

    if settings.broker_url.startswith("memory://"):
        print(
            "buildapi agent: broker_url is memory://, which only reaches an agent inside the same "
            "process (buildapi demo runs one); set broker_url to amqp://... to run agents apart",
            file=sys.stderr,
        )
        return 2
    databases = Databases.from_settings(settings)
    try:
        refuse_unsupported_schema(databases.schedulerdb)
        with agent_of(settings, databases, load_layout(settings)) as agent:
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, lambda *_: agent.stop())
            if args.drain:
                agent.drain(AGENT_IDLE_SECONDS)
            else:
                print(f"agent consuming {settings.broker_agent_queue}; Ctrl-C stops", flush=True)
                agent.run()
    finally:
        databases.dispose()
    return 0


def run_web(_args: argparse.Namespace, settings: Settings) -> int:
    from buildapi.layout import load_layout

    listener = _listen(settings)
    databases = Databases.from_settings(settings)
    try:
        refuse_unsupported_schema(databases.schedulerdb)
        _serve(settings, load_layout(settings), databases, listener)
    finally:
        databases.dispose()
    return 0


def run_demo(args: argparse.Namespace, settings: Settings) -> int:
    from buildapi.agent.launch import agent_in_background
    from buildapi.farm.launch import RunningFarm, build_farm, with_free_ports
    from buildapi.layout import load_layout

    listener = _listen(settings)
    databases = Databases.from_settings(settings)
    try:
        _initialise(databases)
        refuse_unsupported_schema(databases.schedulerdb)
        layout = load_layout(settings)
        if _is_empty(databases):
            _write_history(settings, layout, databases, args.history_days, DEMO_JOBS_PER_DAY)
        settings = with_free_ports(settings, layout)
        layout = load_layout(settings)
        print(
            f"BuildAPI demo: data in {settings.data_dir.resolve()}, farm seed "
            f"{settings.farm_seed} at {settings.farm_speed:g}x",
            flush=True,
        )
        token = _create_token(settings, DEMO_USER, ())
        with (
            RunningFarm(build_farm(settings, layout, databases), settings),
            _dumps_in_background(settings, layout, databases),
            agent_in_background(settings, databases, layout),
        ):
            _announce_demo_token(settings, databases, token)
            _serve(settings, layout, databases, listener)
    finally:
        databases.dispose()
    return 0


def run_dumps(args: argparse.Namespace, settings: Settings) -> int:
    import threading
    import time

    from buildapi.dumps.daily import write_day_dump
    from buildapi.dumps.run import refresh_forever, write_live_dumps
    from buildapi.layout import load_layout

    out = getattr(args, "out", None) or settings.dumps_path
    layout = load_layout(settings)
    databases = Databases.from_settings(settings)
    try:
        for day in args.day:
            print(write_day_dump(databases, out, day))
        every = getattr(args, "every", None)
        if every:
            print(f"writing the dumps to {out} every {every:g} s; Ctrl-C stops", flush=True)
            refresh_forever(databases, layout, out, every, threading.Event())
        for path in write_live_dumps(databases, layout, out, time.time()):
            print(path)
    finally:
        databases.dispose()
    return 0


def run_farm(args: argparse.Namespace, settings: Settings) -> int:
    import signal
    import threading

    from buildapi.farm.launch import RunningFarm, build_farm
    from buildapi.layout import load_layout

    layout = load_layout(settings)
    databases = Databases.from_settings(settings)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        with RunningFarm(build_farm(settings, layout, databases), settings):
            print(f"farm running at {settings.farm_speed:g}x; Ctrl-C stops it", flush=True)
            stop.wait()
    finally:
        databases.dispose()
    return 0


def run_farm_history(args: argparse.Namespace, settings: Settings) -> int:
    from buildapi.layout import load_layout

    databases = Databases.from_settings(settings)
    try:
        _initialise(databases)
        stats = _write_history(
            settings,
            load_layout(settings),
            databases,
            args.days,
            args.jobs_per_day,
            getattr(args, "end", None),
        )
    finally:
        databases.dispose()
    print(
        f"wrote {stats.requests} build requests in {stats.buildsets} buildsets, "
        f"{stats.builds} builds, in {stats.seconds:.1f} s"
    )
    return 0


@contextlib.contextmanager
def _dumps_in_background(settings: Settings, layout, databases: Databases):  # type: ignore[no-untyped-def]
    import threading

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


def _initialise(databases: Databases) -> None:
    from buildapi.db.setup import init_databases

    init_databases(databases)


def _is_empty(databases: Databases) -> bool:
    from buildapi.db.queries.buildrequests import count_requests

    with databases.schedulerdb.connect() as connection:
        return count_requests(connection) == 0


def _write_history(  # type: ignore[no-untyped-def]
    settings: Settings,
    layout,
    databases: Databases,
    days: float,
    jobs_per_day: int,
    end: float | None = None,
):
    import time

    from tqdm import tqdm

    from buildapi.farm.history import write_history

    total = int(days * jobs_per_day)
    with tqdm(total=total, unit="req", desc="history", disable=None) as bar:
        return write_history(
            layout,
            databases,
            days=days,
            jobs_per_day=jobs_per_day,
            seed=settings.farm_seed,
            end=end or time.time(),
            zone=settings.zone,
            progress=bar.update,
            push_rates=settings.farm_push_rates,
        )


def _listen(settings: Settings) -> socket.socket:
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


def _serve(settings: Settings, layout, databases: Databases, listener: socket.socket) -> None:  # type: ignore[no-untyped-def]
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


def _safe_url(url: str) -> str:
    from buildapi.db.engines import normalize_url

    return normalize_url(url).render_as_string(hide_password=True)


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.splitlines()[0] if text else type(exc).__name__


if __name__ == "__main__":
    sys.exit(main())
