"""Build a running farm from Settings: the simulator, its stepping thread and its web server."""

from __future__ import annotations

import json
import threading
from types import TracebackType

from buildapi.clock import Clock, SystemClock
from buildapi.config import Settings
from buildapi.db.engines import Databases
from buildapi.farm.farm import Farm
from buildapi.farm.server import FarmServer, free_ports
from buildapi.layout import FarmLayout


def build_farm(
    settings: Settings, layout: FarmLayout, databases: Databases, clock: Clock | None = None
) -> Farm:
    return Farm(
        layout,
        databases,
        clock or SystemClock(),
        seed=settings.farm_seed,
        speed=settings.farm_speed,
        zone=settings.zone,
        push_rates=settings.farm_push_rates,
    )


class RunningFarm:
    """The farm stepping in a background thread, with its masters' web interface up."""

    def __init__(self, farm: Farm, settings: Settings) -> None:
        self.farm = farm
        self.tick = settings.farm_tick_seconds
        self.server = FarmServer(farm, settings.clobberer_url)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=farm.run, args=(self._stop, self.tick), name="farm", daemon=True
        )

    def __enter__(self) -> RunningFarm:
        self.farm.start()
        self.server.start()
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        self.server.stop()


def with_free_ports(settings: Settings, layout: FarmLayout) -> Settings:
    """Settings whose masters (and clobberer) listen on free loopback ports, written to a
    masters file in the data directory, so that several demos can run side by side."""
    masters = layout.masters
    ports = free_ports(len(masters) + 1)
    document = [
        {**master.model_dump(), "hostname": "127.0.0.1", "http_port": port}
        for master, port in zip(masters, ports, strict=False)
    ]
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = (settings.data_dir / "masters.json").resolve()
    path.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    return settings.model_copy(
        update={
            "masters_url": str(path),
            "clobberer_url": f"http://127.0.0.1:{ports[-1]}/clobberer",
        }
    )
