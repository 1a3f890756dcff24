"""Test runs: per builder, how long its good test builds took and how much of it was tests.

The averages come from the database (`testrun_averages`, portable date arithmetic instead of
the MySQL-only TIMESTAMPDIFF). Platform and build type use the report classifier shared by all
reports; the legacy report had its own classifier that called every xpcshell builder `xp`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from buildapi.db.queries.report_status import BuilderTestTime
from buildapi.errors import BadInput
from buildapi.reports import classify
from buildapi.reports.window import Window

ALL = "ALL"
PLATFORMS = tuple(sorted({name for name, _ in classify.PLATFORMS} | {classify.OTHER_PLATFORM}))
BUILD_TYPES = ("debug", "opt", "other")
# Suites grouped by name; legacy lost `nochrome` and `scroll` to a missing comma.
SUITES = (
    "crashtest",
    "reftest",
    "xpcshell",
    "jsreftest",
    "mochitest-other",
    "mochitest-browser-chrome",
    "mochitest-1",
    "mochitest-2",
    "mochitest-3",
    "mochitest-4",
    "mochitest-5",
    "chrome",
    "nochrome",
    "scroll",
    "a11y",
    "tp4",
    "svg",
    "dirty",
    "v8",
    "cold",
    "dromaeo",
    "addon",
)
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


def checked_group(value: str | None) -> bool:
    """`group` as a real boolean (legacy took any non-empty value, `false` too, as true)."""
    text = (value or "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise BadInput(f"group must be true or false, not {value!r}")


def checked_choice(value: str | None, name: str, allowed: tuple[str, ...]) -> str | None:
    if value is None or value == "" or value == ALL:
        return None
    if value not in allowed:
        raise BadInput(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def _ratio(total: float, test: float) -> str:
    return f"{test / total:.3f}" if total else "0.000"


def testrun_report(
    rows: Iterable[BuilderTestTime],
    window: Window,
    *,
    category: str | None,
    platform: str | None,
    btype: str | None,
    group: bool,
) -> dict[str, Any]:
    """Builders (or suites, with `group`) with average total and test seconds and their ratio."""
    builders: dict[str, dict[str, Any]] = {}
    for row in rows:
        row_platform = classify.platform(row.buildername) or classify.OTHER_PLATFORM
        row_btype = classify.build_type(row.buildername) or "other"
        if (platform and row_platform != platform) or (btype and row_btype != btype):
            continue
        builders[row.buildername] = {
            "total": int(row.total),
            "test": int(row.test),
            "ratio": _ratio(row.total, row.test),
            "platform": row_platform,
        }
    if group:
        builders = _grouped(builders, platform or ALL)
    return {
        "starttime": window.starttime,
        "endtime": window.endtime,
        "total": len(builders),
        "category": category or ALL,
        "platform": platform or ALL,
        "btype": btype or ALL,
        "group": group,
        "builders": builders,
    }


def _grouped(builders: dict[str, dict[str, Any]], platform: str) -> dict[str, dict[str, Any]]:
    """Per suite: the mean of the builders whose name contains it (a builder may count twice)."""
    groups = {}
    for suite in SUITES:
        members = [entry for name, entry in builders.items() if suite in name]
        if members:
            total = sum(entry["total"] for entry in members) / len(members)
            test = sum(entry["test"] for entry in members) / len(members)
            groups[suite] = {
                "total": int(total),
                "test": int(test),
                "ratio": _ratio(total, test),
                "platform": platform,
            }
    return groups
