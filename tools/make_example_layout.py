"""Regenerate the example farm layout shipped in src/buildapi/examples/.

Run: python tools/make_example_layout.py [OUTPUT_DIR]
The names follow Mozilla's 2015-era Buildbot builders so the report classifiers meet real shapes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "src" / "buildapi" / "examples"

BRANCHES = {
    "mozilla-central": ("mozilla-central", "Firefox"),
    "mozilla-inbound": ("integration/mozilla-inbound", "Mozilla-Inbound"),
    "try": ("try", "Try"),
    "mozilla-beta": ("releases/mozilla-beta", "Mozilla-Beta"),
    "ash": ("projects/ash", "Ash"),
}
NIGHTLY_BRANCHES = {"mozilla-central", "mozilla-beta", "ash"}
PGO_BRANCHES = {"mozilla-central", "mozilla-inbound", "mozilla-beta"}
L10N_BRANCHES = {"mozilla-central", "mozilla-beta"}

# platform -> (builder name prefix, build slave pool, try slave pool, has a debug build)
BUILD_PLATFORMS = {
    "linux": ("Linux", "bld-linux64-spot", "try-linux64-spot", True),
    "linux64": ("Linux x86-64", "bld-linux64-spot", "try-linux64-spot", True),
    "macosx64": ("OS X 10.7", "bld-lion-r5", "bld-lion-r5", True),
    "win32": ("WINNT 5.2", "b-2008-ix", "b-2008-ix", True),
    "win64": ("WINNT 6.1 x86-64", "b-2008-ix", "b-2008-ix", True),
    "android-api-15": ("Android armv7 API 15+", "bld-linux64-spot", "try-linux64-spot", True),
}
PGO_PLATFORMS = ("linux", "linux64", "win32", "win64")
L10N_PLATFORMS = ("linux", "linux64", "macosx64", "win32")
L10N_CHUNKS = 2

# (test platform prefix, build platform it tests, slave pool, suites)
DESKTOP_SUITES = (
    "mochitest-1",
    "mochitest-2",
    "mochitest-browser-chrome-1",
    "mochitest-devtools-chrome",
    "reftest",
    "crashtest",
    "xpcshell",
    "web-platform-tests-1",
)
TEST_PLATFORMS = (
    ("Ubuntu VM 12.04", "linux", "tst-linux32-spot", DESKTOP_SUITES),
    ("Ubuntu VM 12.04 x64", "linux64", "tst-linux64-spot", DESKTOP_SUITES),
    ("Rev5 MacOSX Yosemite 10.10", "macosx64", "t-yosemite-r5", DESKTOP_SUITES[:6]),
    ("Windows 7 32-bit", "win32", "t-w732-ix", DESKTOP_SUITES[:6]),
    ("Windows XP 32-bit", "win32", "t-xp32-ix", DESKTOP_SUITES[:4]),
    ("Windows 8 64-bit", "win64", "t-w864-ix", DESKTOP_SUITES[:6]),
    (
        "Android 4.3 armv7 API 15+",
        "android-api-15",
        "tst-emulator64-spot",
        ("mochitest-1", "mochitest-2", "plain-reftest-1", "crashtest"),
    ),
)
TALOS_PLATFORMS = (
    ("Ubuntu HW 12.04 x64", "linux64", "talos-linux64-ix"),
    ("Rev5 MacOSX Yosemite 10.10", "macosx64", "t-yosemite-r5"),
    ("Windows 7 32-bit", "win32", "t-w732-ix"),
    ("Windows 8 64-bit", "win64", "t-w864-ix"),
)
TALOS_SUITES = ("tp5o", "svgr", "chromez", "dromaeojs", "other", "g1")


# slave pool -> (how many machines, digits in their number), named as the legacy silos
SLAVE_POOLS = {
    "bld-linux64-spot": (60, 3),
    "try-linux64-spot": (40, 3),
    "bld-lion-r5": (16, 3),
    "b-2008-ix": (50, 4),
    "tst-linux32-spot": (40, 3),
    "tst-linux64-spot": (60, 3),
    "t-yosemite-r5": (24, 4),
    "t-w732-ix": (40, 3),
    "t-xp32-ix": (24, 3),
    "t-w864-ix": (30, 3),
    "tst-emulator64-spot": (40, 3),
    "talos-linux64-ix": (20, 3),
}


def slaves() -> dict[str, list[str]]:
    return {
        pool: [f"{pool}-{number:0{digits}d}" for number in range(1, count + 1)]
        for pool, (count, digits) in SLAVE_POOLS.items()
    }


def branches() -> dict:
    return {
        name: {
            "repo": f"https://hg.mozilla.org/{path}",
            "graph_branches": [graph],
            "repo_type": "hg",
        }
        for name, (path, graph) in BRANCHES.items()
    }


def masters() -> list[dict]:
    def master(number: int, role: str, instance: str, enabled: bool = True, **extra) -> dict:
        host = f"buildbot-master{number:02d}.bb.releng.example.com"
        return {
            "name": f"bm{number:02d}-{instance}",
            "hostname": "127.0.0.1",
            "http_port": 8100 + number,
            "pb_port": 9100 + number,
            "db_name": f"{host}:/builds/buildbot/{instance}/master",
            "role": role,
            "enabled": enabled,
            **extra,
        }

    return [
        master(1, "build", "build1"),
        master(2, "build", "build1"),
        master(3, "build", "build1"),
        master(4, "build", "build1", enabled=False),
        master(10, "try", "try1"),
        master(11, "try", "try1"),
        master(20, "tests", "tests1-linux", platforms=["linux", "linux64"]),
        master(21, "tests", "tests1-linux", platforms=["linux", "linux64"]),
        master(22, "tests", "tests1-windows", platforms=["win32", "win64"]),
        master(23, "tests", "tests1-windows", platforms=["win32", "win64"]),
        master(24, "tests", "tests1-macosx", platforms=["macosx64"]),
        master(25, "tests", "tests1-android", platforms=["android-api-15"]),
    ]


def builder(branch: str, platform: str, pool: str, shortname: str, kind: str, **extra) -> dict:
    entry = {
        "properties": {
            "branch": branch,
            "platform": platform,
            "product": "fennec" if platform.startswith("android") else "firefox",
            "repo_path": BRANCHES[branch][0],
        },
        "slavepool": pool,
        "shortname": shortname,
        "kind": kind,
    }
    entry.update(extra)
    return entry


def builders_for(branch: str) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for platform, (prefix, pool, try_pool, has_debug) in BUILD_PLATFORMS.items():
        pool = try_pool if branch == "try" else pool
        short = f"{branch}-{platform}"
        out[f"{prefix} {branch} build"] = builder(branch, platform, pool, short, "build")
        if has_debug:
            out[f"{prefix} {branch} leak test build"] = builder(
                branch, platform, pool, f"{short}-debug", "build"
            )
        if branch in NIGHTLY_BRANCHES:
            out[f"{prefix} {branch} nightly"] = builder(
                branch, platform, pool, f"{short}-nightly", "nightly"
            )
        if branch in PGO_BRANCHES and platform in PGO_PLATFORMS:
            out[f"{prefix} {branch} pgo-build"] = builder(
                branch, platform, pool, f"{short}-pgo", "pgo"
            )
        if branch in L10N_BRANCHES and platform in L10N_PLATFORMS:
            for chunk in range(1, L10N_CHUNKS + 1):
                out[f"Firefox {branch} {platform} l10n nightly-{chunk}"] = builder(
                    branch, platform, pool, f"{short}-l10n-{chunk}", "l10n"
                )
    for prefix, platform, pool, suites in TEST_PLATFORMS:
        build_prefix = BUILD_PLATFORMS[platform][0]
        for build_type, upstream in (("opt", "build"), ("debug", "leak test build")):
            for suite in suites:
                out[f"{prefix} {branch} {build_type} test {suite}"] = builder(
                    branch,
                    platform,
                    pool,
                    f"{branch}-{platform}-{build_type}-{suite}",
                    "test",
                    triggered_by=f"{build_prefix} {branch} {upstream}",
                )
    for prefix, platform, pool in TALOS_PLATFORMS:
        build_prefix = BUILD_PLATFORMS[platform][0]
        for suite in TALOS_SUITES:
            out[f"{prefix} {branch} talos {suite}"] = builder(
                branch,
                platform,
                pool,
                f"{branch}-{platform}-talos-{suite}",
                "talos",
                triggered_by=f"{build_prefix} {branch} build",
            )
    return out


def builders() -> dict:
    everything: dict[str, dict] = {}
    for branch in BRANCHES:
        everything.update(builders_for(branch))
    return {"builders": dict(sorted(everything.items()))}


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT
    out.mkdir(parents=True, exist_ok=True)
    for name, document in (
        ("branches.json", branches()),
        ("masters.json", masters()),
        ("builders.json", builders()),
        ("slaves.json", slaves()),
    ):
        (out / name).write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {out / name}")


if __name__ == "__main__":
    main()
