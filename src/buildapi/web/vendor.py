"""Browser libraries installed from npm at build time (`./dev` runs `npm ci` in web/vendor/).

They are not in the repository; when missing, the app still runs and pages say that charts
are unavailable."""

from __future__ import annotations

from pathlib import Path

VENDOR_DIR = Path(__file__).parent / "vendor"
CHART_JS_DIR = VENDOR_DIR / "node_modules" / "chart.js" / "dist"
CHART_JS_FILE = "chart.umd.min.js"
# Where the app serves CHART_JS_DIR.
CHART_JS_MOUNT = "/vendor/chart.js"


def chart_js_path() -> str | None:
    """The app path of Chart.js, or None when it is not installed."""
    return f"{CHART_JS_MOUNT}/{CHART_JS_FILE}" if (CHART_JS_DIR / CHART_JS_FILE).is_file() else None
