"""Regenerate tests/unit/farm/sample_properties.json: the build properties that real builds-4hr
dumps carry, per kind of build, with each value's JSON type (names and types only, no values).

Run: python tools/sample_properties.py SAMPLES_DIR [OUTPUT]
SAMPLES_DIR holds builds-4hr dumps (`*builds-4h*.js*`, `*buildbot_text*.json`), e.g. the ones
Treeherder's tests parse. Builds are grouped by kind (from the builder name, as the farm's
layout names them), try or not, operating system and debug or not; a group lists the names
every one of its builds has. Builders of no kind the farm runs (B2G) are left out.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent.parent / "tests/unit/farm/sample_properties.json"
PATTERNS = ("*builds-4h*.js*", "*buildbot_text*.json")
# The start of a build's platform -> its operating system.
SYSTEMS = {"win": "win", "linux": "linux", "macosx": "mac", "lion": "mac", "android": "android"}
JSON_TYPES = {str: "string", int: "number", float: "number", bool: "boolean", list: "array"}


def kind_of(name: str) -> str | None:
    if " talos " in name:
        return "talos"
    if " test " in name and not name.endswith(" build"):
        return "test"
    if name.endswith(" nightly"):
        return "nightly"
    if name.endswith(" pgo-build"):
        return "pgo"
    if "_repack_" in name or " l10n " in name:
        return "l10n"
    if name.endswith(" build"):
        return "build"
    return None


def system_of(properties: dict[str, Any]) -> str | None:
    platform = properties.get("stage_platform") or properties.get("platform") or ""
    return next((system for start, system in SYSTEMS.items() if platform.startswith(start)), None)


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    return JSON_TYPES.get(type(value), "object")


def sample_builds(directory: Path) -> list[dict[str, Any]]:
    """Each build once: the dumps of one moment overlap."""
    files = sorted({path for pattern in PATTERNS for path in directory.glob(pattern)})
    found = {}
    for path in files:
        for build in json.loads(path.read_text())["builds"]:
            found.setdefault(build["id"], build)
    return list(found.values())


def groups(builds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    grouped: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for build in builds:
        properties = build["properties"]
        name = properties.get("buildername", "")
        kind, system = kind_of(name), system_of(properties)
        if kind is None or system is None:
            continue
        debug = "leak test build" in name or " debug " in name
        grouped[(kind, " try " in name, system, debug)].append(properties)
    found = []
    for (kind, on_try, system, debug), members in sorted(grouped.items()):
        names = set.intersection(*(set(properties) for properties in members))
        types = {
            name: sorted({json_type(properties[name]) for properties in members})
            for name in sorted(names)
        }
        found.append(
            {
                "kind": kind,
                "try": on_try,
                "system": system,
                "debug": debug,
                "builds": len(members),
                "properties": {name: "|".join(kinds) for name, kinds in types.items()},
            }
        )
    return found


def main() -> None:
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    out = Path(sys.argv[2]) if len(sys.argv) == 3 else OUT
    document = groups(sample_builds(Path(sys.argv[1])))
    out.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{len(document)} groups written to {out}")


if __name__ == "__main__":
    main()
