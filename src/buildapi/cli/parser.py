"""The command line: every command, its options and the checks of their values."""

from __future__ import annotations

import argparse
import datetime
from collections.abc import Callable
from pathlib import Path

from buildapi import __version__
from buildapi.cli.admin import (
    run_db_init,
    run_db_upgrade,
    run_token_create,
    run_token_list,
    run_token_revoke,
)
from buildapi.cli.agent import run_agent
from buildapi.cli.cluster import (
    DEFAULT_DIR,
    run_cluster_down,
    run_cluster_restart,
    run_cluster_status,
    run_cluster_up,
)
from buildapi.cli.farming import run_farm, run_farm_bigday, run_farm_history
from buildapi.cli.publishing import run_dumps, run_mail_waittimes
from buildapi.cli.serving import DEMO_HISTORY_DAYS, run_demo, run_web
from buildapi.cluster.databases import DATABASE_KINDS
from buildapi.vocabulary import POOL_NAMES, POOLS


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
    bigday = farm_commands.add_parser(
        "bigday", parents=[common], help="write one very busy day of one branch, fast"
    )
    bigday.add_argument("--branch", required=True, help="a branch of the branches config")
    bigday.add_argument("--jobs", type=_positive_int, required=True, help="build requests")
    bigday.add_argument(
        "--date", type=_date, help="YYYY-MM-DD in the configured zone (default today)"
    )
    bigday.set_defaults(handler=run_farm_bigday)

    web = commands.add_parser("web", parents=[common], help="run the HTTP server")
    _add_listen_options(web)
    web.add_argument(
        "--workers",
        type=_positive_int,
        help="processes serving the one socket (default: web_workers, 1); several need amqp://",
    )
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
    _add_cluster(commands)
    return parser


def _add_cluster(commands: argparse._SubParsersAction) -> None:
    base = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    base.add_argument("--config", type=Path, help="TOML file of the settings to start from")
    cluster = commands.add_parser(
        "cluster", help="run the production topology on this machine, for development and tests"
    )
    actions = cluster.add_subparsers(dest="cluster_command", required=True, metavar="ACTION")
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument(
        "--dir", type=Path, default=DEFAULT_DIR, help=f"state directory (default {DEFAULT_DIR})"
    )
    up = actions.add_parser("up", parents=[base, where], help="start every part")
    up.add_argument("--database", choices=DATABASE_KINDS, default=DATABASE_KINDS[0])
    up.add_argument("--database-url", help="use this database server instead of starting one")
    up.add_argument("--broker-url", help="use this RabbitMQ (amqp://...) instead of starting one")
    up.add_argument("--port", type=_port, default=8080, help="nginx's port (default 8080)")
    up.add_argument(
        "--web-workers", type=_positive_int, default=2, help="web workers behind nginx (default 2)"
    )
    up.add_argument("--agents", type=_positive_int, default=2, help="agents (default 2)")
    up.add_argument(
        "--history-days", type=_positive_float, default=1.0, help="days of past builds (default 1)"
    )
    up.add_argument(
        "--mail-every",
        type=_positive_float,
        default=10.0,
        help="minutes between wait-time mails (default 10)",
    )
    up.set_defaults(handler=run_cluster_up)
    actions.add_parser("down", parents=[where], help="stop what `up` started").set_defaults(
        handler=run_cluster_down
    )
    actions.add_parser(
        "status", parents=[where], help="each part: pid, port, whether it answers"
    ).set_defaults(handler=run_cluster_status)
    restart = actions.add_parser("restart", parents=[where], help="stop and start one part")
    restart.add_argument("part", help="the part's name, as `status` lists it (e.g. agent-1)")
    restart.set_defaults(handler=run_cluster_restart)


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


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"not a port: {text!r}")
    return int(text)


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


def _positive(parse: Callable[[str], float], kind: str) -> Callable[[str], float]:
    """An argument type: `text` read by `parse` (int or float), greater than 0."""

    def checked(text: str) -> float:
        try:
            value = parse(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not {kind}: {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be greater than 0: {text!r}")
        return value

    return checked


_positive_int = _positive(int, "an integer")
_positive_float = _positive(float, "a number")
