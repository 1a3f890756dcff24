"""What /readyz and /healthz check and what their answers say.

/readyz is the load balancer's question, "can this web process serve?": its databases, the
broker and a Redis cache. /healthz adds the agents, which the web does not need to serve but
the farm needs to carry out job requests, and shows each part's kind and the farm layout. Both
run their checks at once, bounded by `health_timeout_seconds` (buildapi.probes)."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from buildapi.clock import SystemClock
from buildapi.db.engines import database_kind_and_name, ping
from buildapi.db.queries.heartbeats import FORGOTTEN_AFTER_SECONDS, AgentSeen, list_agents_seen
from buildapi.probes import Check, Probed
from buildapi.selfserve.broker import check_broker
from buildapi.web.deps import AppState

OK = "ok"
AGENTS = "agents"


@dataclass(frozen=True)
class Report:
    """The checks' outcomes ("ok" or "down (why)"), and what else the answer shows."""

    checks: dict[str, str]
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def failing(self) -> list[str]:
        return [name for name, outcome in self.checks.items() if outcome != OK]

    @property
    def status(self) -> int:
        return 503 if self.failing else 200

    @property
    def body(self) -> dict[str, Any]:
        if not self.failing:
            return {"status": "OK", "checks": self.checks, **self.details}
        msg = "; ".join(f"{name}: {self.checks[name]}" for name in self.failing)
        return {"status": "FAILED", "msg": msg, "checks": self.checks, **self.details}


def readiness_checks(state: AppState) -> dict[str, Check]:
    """Each database, the broker, and the cache when it is Redis (an in-process one is always
    there)."""
    settings = state.settings
    checks: dict[str, Check] = {
        name: functools.partial(ping, engine) for name, engine in state.databases.items()
    }
    checks["broker"] = functools.partial(
        check_broker, settings.broker_url, settings.broker_connect_timeout_seconds
    )
    if settings.cache_url:
        checks["cache"] = state.cache.ping
    return checks


def health_checks(state: AppState) -> dict[str, Check]:
    """The readiness checks and the agents' heartbeats of the last day."""
    since = int(SystemClock().now()) - FORGOTTEN_AFTER_SECONDS
    return {
        **readiness_checks(state),
        AGENTS: functools.partial(_agents_seen, state, since),
    }


def readiness_report(probed: dict[str, Probed]) -> Report:
    return Report({name: _said(outcome) for name, outcome in probed.items()})


def health_report(state: AppState, probed: dict[str, Probed]) -> Report:
    stale = state.settings.agent_stale_seconds
    agents = probed[AGENTS]
    checks = {name: _said(outcome) for name, outcome in probed.items() if name != AGENTS}
    now = int(SystemClock().now())
    seen = [_agent(row, now, stale) for row in agents.value or ()]
    alive = sum(agent["alive"] for agent in seen)
    required = required_agents(state)
    if required:
        checks[AGENTS] = _agents_said(agents.error, alive, required, stale)
    details = {
        "parts": _parts(state, checks),
        "agents": {
            "required": required,
            "stale_after_seconds": stale,
            "alive": alive,
            "seen": seen,
        },
        "layout": {
            name: source.shown_error or OK for name, source in state.layout.named_sources.items()
        },
    }
    return Report(checks, details)


def required_agents(state: AppState) -> int:
    """How many agents /healthz wants alive: none on memory://, whose only agent is a thread
    of the web's own process (`buildapi demo`), alive exactly while the page answers."""
    settings = state.settings
    return 0 if settings.broker_url.startswith("memory://") else settings.health_min_agents


def _agents_seen(state: AppState, since: int) -> list[AgentSeen]:
    with state.databases.buildapi_db.connect() as connection:
        return list_agents_seen(connection, since)


def _said(outcome: Probed) -> str:
    return OK if outcome.ok else f"down ({outcome.error})"


def _agents_said(error: str | None, alive: int, required: int, stale: float) -> str:
    if error is not None:
        return f"down (cannot read the heartbeats: {error})"
    if alive >= required:
        return OK
    return f"down ({alive} of {required} required agents seen within {stale:g} s)"


def _agent(row: AgentSeen, now: int, stale: float) -> dict[str, Any]:
    ago = max(0, now - row.seen_at)
    return {
        "agent": row.agent,
        "host": row.host,
        "pid": row.pid,
        "started_at": row.started_at,
        "seen_at": row.seen_at,
        "seen_seconds_ago": ago,
        "alive": ago <= stale,
    }


def _parts(state: AppState, checks: dict[str, str]) -> dict[str, dict[str, str]]:
    """Each checked part's kind (and a database's name), never a path or a password."""
    parts = {}
    for name, engine in state.databases.items():
        kind, database = database_kind_and_name(engine)
        parts[name] = {"kind": kind, "name": database}
    parts["broker"] = {"kind": state.settings.broker_url.split("://", 1)[0]}
    if "cache" in checks:
        parts["cache"] = {"kind": "redis"}
    return parts
