"""A farm on a virtual clock over fresh SQLite databases."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from buildapi.clock import VirtualClock
from buildapi.config import load_settings
from buildapi.db.engines import Databases
from buildapi.db.setup import init_databases
from buildapi.farm.farm import Farm
from buildapi.layout import load_layout
from buildapi.layout.loader import example_location

START = 1_780_000_000.0  # a Tuesday in 2026, 20:26 UTC
BUSY = {"mozilla-inbound": 3.0, "try": 3.0, "mozilla-central": 1.0}
# A third of the shipped builders keeps each step quick while every kind of job remains.
PLATFORMS = ("linux64", "win32")


def small_builders(directory: Path) -> Path:
    """The shipped builders of a few platforms, written next to the databases."""
    document = json.loads(Path(example_location("builders.json")).read_text(encoding="utf-8"))
    document["builders"] = {
        name: builder
        for name, builder in document["builders"].items()
        if builder["properties"]["platform"] in PLATFORMS
    }
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "builders.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def make_farm(
    directory: Path,
    seed: int = 7,
    push_rates: dict[str, float] | None = None,
    start: float = START,
    idle_jobs: bool = True,
    **overrides: str,
) -> Farm:
    settings = load_settings(
        data_dir=directory, builders_url=str(small_builders(directory)), **overrides
    )
    databases = Databases.from_settings(settings)
    init_databases(databases)
    farm = Farm(
        load_layout(settings),
        databases,
        VirtualClock(start),
        seed=seed,
        speed=1.0,
        zone=settings.zone,
        push_rates=BUSY if push_rates is None else push_rates,
        idle_jobs=idle_jobs,
    )
    farm.start()
    return farm


@pytest.fixture
def farm(tmp_path: Path) -> Iterator[Farm]:
    farm = make_farm(tmp_path)
    yield farm
    farm.databases.dispose()
