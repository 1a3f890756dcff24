"""Which masters run which builders: the role a builder needs and the platforms a master takes."""

from __future__ import annotations

import random

from buildapi.layout import Builder, FarmLayout, Master


def serves(master: Master, builder: Builder) -> bool:
    if not master.enabled or master.role != builder.role:
        return False
    platforms = getattr(master, "platforms", None)
    return platforms is None or builder.properties.platform in platforms


class Routing:
    """Builder name -> the enabled masters that may claim its requests (computed once)."""

    def __init__(self, layout: FarmLayout) -> None:
        self.layout = layout
        self._masters = {
            name: [master for master in layout.masters if serves(master, builder)]
            for name, builder in layout.builders.items()
        }

    def masters_for(self, buildername: str) -> list[Master]:
        return self._masters.get(buildername, [])

    def pick_master(self, buildername: str, rng: random.Random) -> Master | None:
        masters = self.masters_for(buildername)
        return rng.choice(masters) if masters else None
