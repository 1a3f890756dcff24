"""The `buildapi` command: parse arguments, build objects from Settings, call one function."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from buildapi import __version__
from buildapi.config import Settings, load_settings
from buildapi.db.engines import Databases
from buildapi.errors import BuildAPIError

Handler = Callable[[argparse.Namespace, Settings], int]

# Commands whose machinery arrives in later releases; they still parse the common options.
PLANNED = {
    "agent": "the self-serve agent",
    "farm": "the simulated build farm",
    "dumps": "the JSON dumps writer",
    "mail-waittimes": "the wait-time e-mail report",
    "token": "API token management",
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings(
            args.config,
            data_dir=args.data_dir,
            host=getattr(args, "host", None),
            port=getattr(args, "port", None),
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
    common = argparse.ArgumentParser(add_help=False)
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
    demo.add_argument("--seed", type=int, default=1, help="seed of the simulated farm")
    demo.add_argument(
        "--speed",
        type=_positive_float,
        default=60.0,
        help="farm seconds per real second (default 60)",
    )
    demo.set_defaults(handler=run_demo)

    web = commands.add_parser("web", parents=[common], help="run the HTTP server")
    _add_listen_options(web)
    web.set_defaults(handler=run_web)

    db = commands.add_parser("db", help="create or migrate the databases")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser(
        "init", parents=[common], help="create all three schemas (safe to repeat)"
    ).set_defaults(handler=run_db_init)
    db_commands.add_parser(
        "upgrade", parents=[common], help="migrate BuildAPI's own database to the newest schema"
    ).set_defaults(handler=run_db_upgrade)

    for name, what in PLANNED.items():
        planned = commands.add_parser(name, parents=[common], help=f"{what} (not available yet)")
        planned.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
        planned.set_defaults(handler=_not_available(name, what))
    return parser


def _add_listen_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default 8000)")


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0: {text!r}")
    return value


def _not_available(name: str, what: str) -> Handler:
    def handler(_args: argparse.Namespace, _settings: Settings) -> int:
        print(f"buildapi {name}: {what} is not available yet", file=sys.stderr)
        return 1

    return handler


def run_db_init(_args: argparse.Namespace, settings: Settings) -> int:
    from buildapi.db.setup import init_databases

    databases = Databases.from_settings(settings)
    try:
        init_databases(databases)
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


def run_web(_args: argparse.Namespace, settings: Settings) -> int:
    _serve(settings, announce=False)
    return 0


def run_demo(args: argparse.Namespace, settings: Settings) -> int:
    from buildapi.db.setup import init_databases

    databases = Databases.from_settings(settings)
    try:
        init_databases(databases)
    finally:
        databases.dispose()
    print(f"BuildAPI demo: data in {settings.data_dir.resolve()} (seed {args.seed})", flush=True)
    _serve(settings, announce=True)
    return 0


def _serve(settings: Settings, announce: bool) -> None:
    import uvicorn

    from buildapi.layout import load_layout
    from buildapi.web.app import create_app

    layout = load_layout(settings)
    databases = Databases.from_settings(settings)
    app = create_app(settings, databases, layout)
    if announce:
        print(
            f"BuildAPI is serving http://{settings.host}:{settings.port}{settings.mount_prefix}/",
            flush=True,
        )
    try:
        uvicorn.run(
            app, host=settings.host, port=settings.port, log_level=settings.log_level.lower()
        )
    finally:
        databases.dispose()


def _safe_url(url: str) -> str:
    from buildapi.db.engines import normalize_url

    return normalize_url(url).render_as_string(hide_password=True)


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.splitlines()[0] if text else type(exc).__name__


if __name__ == "__main__":
    sys.exit(main())
