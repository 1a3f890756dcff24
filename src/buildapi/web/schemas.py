"""JSON Schemas of the legacy shapes the live, self-serve, dump and operations routes answer.

The dicts are built by hand in the shapes modules (fast, and in the legacy key order); these
models only describe them in /openapi.json, and the tests check real answers against them.
Legacy shapes are closed (`extra="forbid"`): a new key is a change clients may notice."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from buildapi.layout.models import Branch

Epoch = int  # integer epoch seconds, as legacy BuildAPI served them


class Legacy(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Failed(Legacy):
    """Every error answer (4xx, 5xx) as JSON; HTML clients get it in a page."""

    status: Literal["FAILED"]
    msg: str


class Accepted(Legacy):
    """A write that was recorded as job `request_id` and handed to the agents."""

    status: Literal["OK"]
    msg: str
    request_id: int


class PendingItem(Legacy):
    id: int = Field(description="buildrequests.id")
    buildername: str
    submitted_at: Epoch


class RunningItem(Legacy):
    id: int = Field(description="builds.id of the newest merged request")
    revision: str | None
    request_ids: list[int] = Field(description="ascending; the last is the newest request")
    submitted_at: Epoch
    buildername: str
    last_heartbeat: Epoch
    claimed_by_name: str | None
    start_time: Epoch
    number: int


# {short branch: {revision: [item]}}
PendingTree = dict[str, dict[str, list[PendingItem]]]


class Pending(Legacy):
    pending: PendingTree


class Running(Legacy):
    running: dict[str, dict[str, list[RunningItem]]]


class RevisionItem(Legacy):
    id: int
    buildsetid: int
    buildername: str
    submitted_at: Epoch
    claimed_at: Epoch
    claimed_by_name: str | None
    start_time: Epoch | None
    finish_time: Epoch | None
    number: int | None
    results: int | None


class RevisionBuilds(Legacy):
    branch: str
    revision: str
    pending: PendingTree
    all: dict[str, dict[str, list[RevisionItem]]]


class RecentBuild(Legacy):
    id: int
    buildname: str
    buildnumber: int
    starttime: Epoch | None
    endtime: Epoch | None
    result: int | None
    slavename: str
    master: str | None
    buildername: Any = Field(description="the builder name property as stored, or an empty string")


class RequestObject(Legacy):
    request_id: int
    buildername: str
    branch: str | None = Field(description="the sourcestamp's branch, a repository path")
    revision: str | None
    submittime: Epoch
    complete: Literal[0, 1]
    complete_at: Epoch | None
    priority: int
    claimed_at: Epoch = Field(description="0 while pending")
    reason: str | None


class BuildObject(Legacy):
    """One physical build: master, builder and number."""

    build_id: int
    buildnumber: int
    buildername: str
    branch: str | None
    revision: str | None
    starttime: Epoch
    endtime: Epoch | None = Field(description="null while running")
    status: int | None = Field(description="the request's result; null while running")
    claimed_by_name: str | None
    requests: list[RequestObject]


class RequestWithProperties(RequestObject):
    properties: dict[str, Any]


class RequestDetail(RequestWithProperties):
    build_ids: list[int]


class BuildDetail(BuildObject):
    requests: list[RequestWithProperties]  # type: ignore[assignment]


JobItems = list[BuildObject | RequestObject]


class Completeness(Legacy):
    stableDelay: int
    job_complete: bool
    job_passed: bool


class UserBuilds(Legacy):
    builds: list[BuildObject]
    running: list[BuildObject]
    pending: list[RequestObject]


class FoundPush(Legacy):
    branch: str | None = Field(description="the short name; null for a branch not configured")
    repository: str
    revision: str
    author: str
    comments: str
    when: Epoch


class SearchResult(Legacy):
    q: str
    kind: Literal["revision", "author"] | None
    pushes: list[FoundPush]
    more: bool = Field(description="more pushes match than the newest shown")


class Job(Legacy):
    """A job request; `id` is BuildAPI's own, legacy left it out."""

    id: int
    action: str
    who: str | None = Field(
        description="null to anonymous readers unless jobs_show_who is everyone"
    )
    when: Epoch
    completed_at: Epoch | None
    complete_data: Any = Field(description="the agent's answer; null until it has answered")
    what: Any = Field(description="the action's arguments")


class RouteDoc(Legacy):
    method: str
    path: str
    doc: str


class SelfServeIndex(Legacy):
    branches: list[str]
    routes: list[RouteDoc]


class Landing(Legacy):
    branches: list[str]
    masters: int
    builders: int
    links: dict[str, str]


CHECKS = Field(description='each part checked: "ok", or "down (why)"')


class Live(Legacy):
    status: Literal["OK"]


class Ready(Legacy):
    status: Literal["OK"]
    checks: dict[str, str] = CHECKS


class ReadyFailed(Failed):
    checks: dict[str, str] = CHECKS


class Part(Legacy):
    kind: str = Field(description="sqlite, postgresql, mysql, mariadb, amqp, memory or redis")
    name: str | None = Field(
        None, description="a database's name; a SQLite file's name without its directory"
    )


class AgentSeen(Legacy):
    agent: str = Field(description="agent_name, or host:pid")
    host: str
    pid: int
    started_at: Epoch
    seen_at: Epoch = Field(description="its last heartbeat")
    seen_seconds_ago: int
    alive: bool = Field(description="seen within agent_stale_seconds")


class Agents(Legacy):
    required: int = Field(
        description="health_min_agents; 0 on memory://, whose agent is in-process"
    )
    stale_after_seconds: float
    alive: int
    seen: list[AgentSeen] = Field(description="agents seen in the last day, latest first")


class HealthDetails(Legacy):
    parts: dict[str, Part]
    agents: Agents
    layout: dict[str, str] = Field(description='each layout document: "ok" or its last error')


class Health(Ready, HealthDetails):
    pass


class HealthFailed(ReadyFailed, HealthDetails):
    pass


class DumpIndex(Legacy):
    files: list[str]


class DumpBuild(Legacy):
    builder_id: int
    buildnumber: int
    endtime: Epoch | None
    id: int
    master_id: int
    properties: dict[str, Any]
    reason: str | None
    request_ids: list[int]
    requesttime: Epoch | None
    result: int | None
    slave_id: int
    starttime: Epoch | None


class DumpBuilder(Legacy):
    name: str
    category: str | None
    master_id: int


class BuildsDump(Legacy):
    """builds-4hr.js.gz and builds-YYYY-MM-DD.js.gz; ids as string keys."""

    builds: list[DumpBuild]
    builders: dict[str, DumpBuilder]
    slaves: dict[str, str]
    starttime: Epoch
    endtime: Epoch


class GridJob(Legacy):
    """A cell of the push grid: a build (its merged requests folded), a RETRY attempt or a
    request no build has taken."""

    buildername: str
    platform: str
    label: str
    state: Literal["pending", "running", "finished"]
    result: int | None
    build_id: int | None
    buildnumber: int | None
    request_ids: list[int]
    revision: str | None
    submittime: Epoch
    starttime: Epoch | None
    endtime: Epoch | None


class GridPush(Legacy):
    push_id: int = Field(description="the tip change's id; `before` pages by it")
    revision: str
    author: str
    comments: str
    pushed_at: Epoch
    jobs: list[GridJob]


class Grid(Legacy):
    branch: str
    platforms: list[str]
    pushes: list[GridPush]
    older: int | None = Field(description="`before` of the next page; null on the last")


# The JSON answer of each read, by path; reports are in report_schemas.py.
READS: dict[str, Any] = {
    "/": Landing,
    "/livez": Live,
    "/readyz": Ready,
    "/healthz": Health,
    "/pending": Pending,
    "/pending/{branch}": Pending,
    "/running": Running,
    "/running/{branch}": Running,
    "/recent": list[RecentBuild],
    "/recent/{slave}": list[RecentBuild],
    "/revision/{branch}/{revision}": RevisionBuilds,
    "/pushes": dict[str, int],
    "/pushes/{branch}": dict[str, int],
    "/pushes/{branch}/{fromtime}": dict[str, int],
    "/pushes/{branch}/{fromtime}/{totime}": dict[str, int],
    "/builddata/buildjson": DumpIndex,
    "/builddata/buildjson/{name}": Pending | Running | BuildsDump,
    "/self-serve": SelfServeIndex,
    "/self-serve/branches": dict[str, Branch],
    "/self-serve/jobs": list[Job],
    "/self-serve/jobs/{job_id}": Job,
    "/self-serve/{branch}": JobItems,
    "/self-serve/{branch}/build/{build_id}": BuildDetail,
    "/self-serve/{branch}/builders": list[str],
    "/self-serve/{branch}/request/{request_id}": RequestDetail,
    "/self-serve/{branch}/rev/{revision}": JobItems,
    "/self-serve/{branch}/rev/{revision}/is_done": Completeness,
    "/self-serve/{branch}/user/{user}": UserBuilds,
    "/search": SearchResult,
    "/self-serve/{branch}/pushes": Grid,
}
