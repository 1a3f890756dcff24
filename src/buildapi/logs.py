"""How every BuildAPI process logs: the `buildapi` command and each web worker it spawns (a
spawned process starts with Python's defaults, which would drop the audit log's lines)."""

from __future__ import annotations

import logging

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format=FORMAT)
    if level != "DEBUG":
        logging.getLogger("alembic").setLevel(logging.WARNING)
