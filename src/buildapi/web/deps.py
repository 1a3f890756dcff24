"""Annotated dependencies: the per-app objects routes work with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from buildapi.cache import Cache
from buildapi.config import Settings
from buildapi.db.engines import Databases
from buildapi.layout import FarmLayout
from buildapi.selfserve.auth import Htpasswd
from buildapi.selfserve.jobs import JobPipeline


@dataclass(frozen=True)
class AppState:
    settings: Settings
    databases: Databases
    layout: FarmLayout
    cache: Cache
    pipeline: JobPipeline
    htpasswd: Htpasswd | None
    secret: bytes


def app_state(request: Request) -> AppState:
    return request.app.state.buildapi


State = Annotated[AppState, Depends(app_state)]
