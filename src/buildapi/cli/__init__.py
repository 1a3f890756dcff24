"""The `buildapi` command: parse arguments, load Settings, run one command, and turn every
known failure into one line on stderr and an exit code."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from sqlalchemy.exc import SQLAlchemyError

from buildapi.cli.parser import build_parser
from buildapi.config import load_settings
from buildapi.errors import BuildAPIError
from buildapi.logs import configure_logging

__all__ = ["build_parser", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings(
            getattr(args, "config", None),
            data_dir=getattr(args, "data_dir", None),
            host=getattr(args, "host", None),
            port=getattr(args, "port", None),
            web_workers=getattr(args, "workers", None),
            farm_seed=getattr(args, "seed", None),
            farm_speed=getattr(args, "speed", None),
        )
    except BuildAPIError as exc:
        print(f"buildapi: {exc.msg}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format)
    try:
        return args.handler(args, settings)
    except BuildAPIError as exc:
        print(f"buildapi: {exc.msg}", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        print(f"buildapi: database error: {_first_line(exc)}", file=sys.stderr)
        return 1


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.splitlines()[0] if text else type(exc).__name__
