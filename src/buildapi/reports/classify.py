"""Builder name -> platform, build type, job type; branch -> report branch name; slave -> silo.

The rules are data: ordered lists whose first matching entry wins, so the result never depends on
dictionary order. Patterns are anchored at the start of the name (`re.match`), as the legacy
reports did. Entries marked "added" cover builder names the farm generates that the legacy tables
left unclassified (nightly, PGO and l10n builders); docs/reports.md lists them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence

Rules = tuple[tuple[str, tuple[re.Pattern[str], ...]], ...]

OTHER_PLATFORM = "other"


def _rules(table: Sequence[tuple[str, Iterable[str]]]) -> Rules:
    return tuple((name, tuple(re.compile(p) for p in patterns)) for name, patterns in table)


PLATFORMS = _rules(
    [
        ("win8-ix", [r"Windows 8", r"jetpack-.+-win8", r"WINNT 6\.2 "]),
        (
            "ubuntu32_vm",
            [r"Ubuntu VM 12.04 (?!x64).+", r"b2g_ubuntu32_vm", r"jetpack-.+-ubuntu32_vm"],
        ),
        (
            "mountainlion",
            [
                r"Rev5 MacOSX Mountain Lion 10\.8.+",
                r"b2g_macosx64 .+ test ",
                r"jetpack-.+-mountainlion",
            ],
        ),
        (
            "ubuntu64_emulator_vm",
            [
                r"Ubuntu (ASAN )?VM large 12.04 x64 .+",
                r"Android armv7 API 9 .+ test (plain-reftest|crashtest|jsreftest)",
                r"Android 2.3 (Armv6 )?Emulator .+ test (plain-reftest|crashtest|jsreftest)",
                r"Android 4.3 armv7 API (11|15)\+.*debug test .*(?:mochitest)",
                r"Android 4.3 armv7 API (11|15)\+.*test (plain-reftest|crashtest|jsreftest)",
            ],
        ),
        ("mavericks", [r"Rev5 MacOSX Mavericks 10.9"]),
        ("panda-android", [r"Android 4.0 armv7 API (10|11)", r"Android 4.0 Panda"]),
        ("win10-ix", [r"Windows 10"]),
        (
            "lion",
            [
                r"OS X 10\.7.+",
                r"OS X Mulet",
                r"b2g_.+_macosx64_gecko",
                r"fuzzer-macosx64-lion$",
                r".+macosx64 build",
                r"Firefox .+ macosx64 l10n ",  # added
            ],
        ),
        ("xp-ix", [r"Windows XP 32-bit", r"jetpack-.+-xp"]),
        (
            "ubuntu64_vm",
            [
                r"Ubuntu (Code Coverage )?(ASAN )?VM 12.04 x64 .+",
                r"b2g_ubuntu64_vm",
                r"b2g_emulator_vm",
                r"Android armv7 API 9 .+ test (?!(plain-reftest|crashtest|jsreftest))",
                r"Android 2.3 (Armv6 )?Emulator .+ test (?!(plain-reftest|crashtest|jsreftest))",
                r"Android 4.3 armv7 API (11|15)\+.*test (?!plain-reftest|crashtest|jsreftest)",
                r"jetpack-.+-ubuntu64(-asan)?_vm",
            ],
        ),
        (
            "win2k8",
            [
                r"WINNT 5\.2 ",
                r"WINNT 6\.1 ",
                r"Win32 Mulet",
                r"b2g_.+_win32_gecko",
                r"fuzzer-win64",
                r".+win64 build",
                r"Firefox .+ win(32|64) l10n ",  # added
            ],
        ),
        ("yosemite", [r"Rev(5|7) MacOSX Yosemite 10.10"]),
        (
            "linux-mock",
            [
                r"b2g_((?!(test|talos)).)+$",
                r"b2g_.+_linux32_gecko",
                r"Linux .+ (build|non-unified|valgrind)$",
                r"Android .+ (build|non-unified)$",
                r"linux64-.+-haz",
                r".+linux64 build",
                r"(Linux|Android) .+ (pgo-build|nightly)$",  # added
                r"Firefox .+ linux(64)? l10n ",  # added
            ],
        ),
        ("ubuntu64_hw", [r"Android (?:4\.2 )?x86", r"Ubuntu (ASAN )?HW 12.04 x64"]),
        ("snowleopard", [r"Rev4 MacOSX Snow Leopard 10\.6.+", r"jetpack-.+-snowleopard"]),
        ("win7-ix", [r"Windows 7 32-bit ", r"jetpack-.+-win7"]),
        ("ubuntu32_hw", [r"Ubuntu HW 12.04 (?!x64).+"]),
    ]
)

# Debug before opt: with opt first, "... debug build" matched opt's "any build" pattern.
BUILD_TYPES = _rules(
    [
        ("debug", [r".+ debug .+", r".+ leak test build"]),
        (
            "opt",
            [
                r".+ opt .+",
                r".+(?<!leak test) build",
                r".+ pgo-build$",  # added
                r".+ talos .+",
                r".+ nightly$",
                r".+ xulrunner$",
                r".+ code coverage$",
            ],
        ),
    ]
)

JOB_TYPES = _rules(
    [
        ("unittest", [r".+(?<!leak) test .+"]),
        ("repack", [r".+ l10n .+"]),
        ("talos", [r".+ talos .+"]),
        (
            "build",
            [
                r".+ build",
                r".+ pgo-build$",  # added
                r".+(?<!l10n) nightly$",
                r".+ xulrunner$",
                r".+ code coverage$",
            ],
        ),
    ]
)

# Branch names as the reports group them; matched against the lower-cased sourcestamp branch
# with re.search, so "contains" rules are unanchored and "starts with" rules begin with ^.
REPORT_BRANCHES = _rules(
    [
        ("nanojit-central", [r"nanojit-central"]),
        ("mozilla-2.0", [r"mozilla-2\.0"]),
        ("jaegermonkey", [r"^projects/jaegermonkey"]),
        ("tracemonkey", [r"^tracemonkey"]),
        ("l10n-central", [r"^l10n-central"]),
        ("cedar", [r"^cedar.", r"^projects/cedar"]),
        ("birch", [r"^birch.", r"^projects/birch"]),
        ("maple", [r"^maple", r"^projects/maple"]),
        ("mozilla-1.9.2", [r"mozilla-1\.9\.2"]),
        ("mozilla-1.9.1", [r"mozilla-1\.9\.1"]),
        ("electrolysis", [r"^electrolysis", r"^projects/electrolysis"]),
        ("places", [r"^places.", r"^projects/places"]),
        ("try", [r"^try$", r"^tryserver"]),
        ("mozilla-central", [r"^mozilla-central"]),
    ]
)

# The names the reports' branch parameters accept.
REPORT_BRANCH_NAMES = tuple(name for name, _ in REPORT_BRANCHES)

SILOS = (
    "b-2008-ix",
    "bld-lion-r5",
    "t-xp32-ix",
    "t-w732-ix",
    "t-w864-ix",
    "t-snow-r4",
    "talos-mtnlion-r5",
    "t-yosemite-r5",
    "bld-linux64-ec2",
    "bld-linux64-spot",
    "try-linux64-spot",
    "tst-linux64-spot",
    "tst-linux32-spot",
    "panda",
    "tst-emulator64-spot",
    "talos-linux64-ix",  # added
)
_SILO_NAME = re.compile(r"(?P<silo>" + "|".join(map(re.escape, SILOS)) + r")-\d+")


def _first(rules: Rules, text: str, find: str = "match") -> str | None:
    for name, patterns in rules:
        if any(getattr(pattern, find)(text) for pattern in patterns):
            return name
    return None


@functools.lru_cache(maxsize=4096)
def platform(buildername: str | None) -> str | None:
    """The slave platform a builder runs on; `other` when no rule knows the name. Cached:
    reports ask it for every request, of a few hundred builder names."""
    if not buildername:
        return None
    name = buildername.removeprefix("TB ")
    return _first(PLATFORMS, name) or OTHER_PLATFORM


def build_type(buildername: str | None) -> str | None:
    """`debug`, `opt` or None (e.g. l10n repacks)."""
    return _first(BUILD_TYPES, buildername) if buildername else None


def job_type(buildername: str | None) -> str | None:
    """`unittest`, `repack`, `talos`, `build` or None."""
    return _first(JOB_TYPES, buildername) if buildername else None


def report_branch(branch: str | None) -> str | None:
    """The report branch a sourcestamp branch belongs to; unknown branches keep their own name."""
    if not branch:
        return None
    text = branch.lower()
    return _first(REPORT_BRANCHES, text, "search") or text


def silo(slave: str | None) -> str | None:
    """The silo (slave class) of a slave name such as `b-2008-ix-0001`, or None."""
    found = _SILO_NAME.match(slave or "")
    return found.group("silo") if found else None
