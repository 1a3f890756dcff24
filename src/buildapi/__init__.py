"""BuildAPI: live views, reports and self-serve actions for a Buildbot-style build farm."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("buildapi")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
