"""The app of one `buildapi web` worker process, when several serve one socket.

uvicorn's supervisor spawns the workers (a fresh interpreter each, never a fork), so nothing
of the parent's reaches them but the environment: the parent puts its Settings there as JSON,
and each worker opens its own database engines, broker connections and cache client from them.
"""

from __future__ import annotations

import atexit
import json
import logging
import os

from starlette.types import ASGIApp

from buildapi.config import Settings
from buildapi.db.engines import Databases
from buildapi.layout import load_layout
from buildapi.logs import configure_logging
from buildapi.web.app import create_app

# What uvicorn imports in each worker and calls to get the app.
WORKER_APP = "buildapi.web.worker:create_worker_app"
SETTINGS_ENV = "BUILDAPI_WORKER_SETTINGS"

log = logging.getLogger(__name__)


def worker_environment(settings: Settings) -> dict[str, str]:
    """The variables the parent sets before it spawns workers: they inherit its environment.
    Anything else every worker needs from the parent (a shared directory, say) goes here."""
    return {SETTINGS_ENV: settings.model_dump_json()}


def worker_settings() -> Settings:
    """The parent's Settings, exactly: every key is given, so no file or BUILDAPI_* variable
    read again in the worker can make it differ from its siblings."""
    return Settings(**json.loads(os.environ[SETTINGS_ENV]))


def create_worker_app() -> ASGIApp:
    settings = worker_settings()
    configure_logging(settings.log_level, settings.log_format)
    databases = Databases.from_settings(settings)
    atexit.register(databases.dispose)
    app = create_app(settings, databases, load_layout(settings))
    log.info("web worker %d started", os.getpid())
    return app
