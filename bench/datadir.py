"""Where a benchmark keeps its databases: the directory given, or a temporary one removed after."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


def in_data_dir(data_dir: str | None, prefix: str, run: Callable[[Path], None]) -> None:
    base = Path(data_dir) if data_dir else Path(tempfile.mkdtemp(prefix=prefix))
    try:
        run(base)
    finally:
        if not data_dir:
            shutil.rmtree(base, ignore_errors=True)
