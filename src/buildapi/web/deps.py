"""Annotated dependencies: the per-app objects routes work with."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from buildapi.cache import Cache
from buildapi.config import Settings
from buildapi.db.engines import Databases
from buildapi.events.feed import FarmFeed
from buildapi.events.hub import EventHub
from buildapi.layout import FarmLayout
from buildapi.probes import Prober
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
    feed: FarmFeed
    hub: EventHub
    # One per app, so a hung dependency's check is not started again by every probe.
    prober: Prober = field(default_factory=Prober)


def app_state(request: Request) -> AppState:
    return request.app.state.buildapi


State = Annotated[AppState, Depends(app_state)]
