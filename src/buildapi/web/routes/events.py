"""GET /events: the farm's and the job requests' changes as server-sent events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query
from fastapi.sse import EventSourceResponse, ServerSentEvent
from prometheus_client import Gauge

from buildapi.events.hub import EventHub, Numbered
from buildapi.web.deps import State
from buildapi.web.params import known_branch

router = APIRouter(tags=["live"])

STREAMS = Gauge(
    "buildapi_event_streams",
    "Clients connected to /events now, over the running web processes",
    multiprocess_mode="livesum",
)

# How long a browser waits before it reconnects, in milliseconds.
RETRY_MS = 1000


def _sse(event: Numbered) -> ServerSentEvent:
    return ServerSentEvent(id=event.id, event=event.name, data=event.data, retry=RETRY_MS)


def _backlog(hub: EventHub, last_id: str | None) -> list[Numbered]:
    """What a reconnecting client missed, or one `reset` when that cannot be told."""
    if not last_id:
        return []
    missed = hub.since(last_id)
    return [hub.reset_event("missed events are no longer kept")] if missed is None else missed


def _branch(
    state: State,
    branch: Annotated[str | None, Query(description="only this branch's events")] = None,
) -> str | None:
    """Checked before the stream starts: an error inside it could no longer be a 404."""
    if branch is not None:
        known_branch(state, branch)
    return branch


@router.get(
    "/events",
    response_class=EventSourceResponse,
    summary="Changes of builds, requests and jobs as server-sent events (see docs/api.md)",
)
async def events(
    state: State,
    branch: Annotated[str | None, Depends(_branch)],
    last_event_id: Annotated[str | None, Header(description="resume after this event")] = None,
) -> AsyncIterator[ServerSentEvent]:
    hub = state.hub
    with hub.subscribe() as subscription, STREAMS.track_inprogress():
        # Subscribed first, then the backlog read with no wait between: nothing falls between.
        for event in _backlog(hub, last_event_id):
            yield _sse(event)
        while (event := await subscription.next()) is not None:
            if subscription.lost:
                yield _sse(hub.reset_event("this client fell behind"))
                return
            if branch is None or event.data.get("branch") in (branch, None):
                yield _sse(event)
