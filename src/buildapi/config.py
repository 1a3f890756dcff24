"""One typed Settings object: defaults, the TOML file, BUILDAPI_* variables, then flags."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from buildapi.errors import ConfigError
from buildapi.logs import LogFormat

ENV_PREFIX = "BUILDAPI_"
DEFAULT_PUSH_RATES = {
    "mozilla-inbound": 2.0,
    "try": 3.0,
    "mozilla-central": 0.5,
    "mozilla-beta": 0.2,
    "ash": 0.2,
}
CONFIG_ENV = "BUILDAPI_CONFIG"
MIN_SECRET_LENGTH = 32
# The kinds of farm an agent can act on; agent/launch.py builds each.
AgentBackend = Literal["buildbot08"]
# How the broker's queues are declared; selfserve/queues.py holds each type's arguments.
QueueType = Literal["quorum", "classic"]
# Every priority a write may set; the ceilings of policy_priority_ceiling lie inside it.
PRIORITY_RANGE = (-1000, 1000)
# In the policy keys: the entry for unlisted branches (or users of no listed group), and the
# group that stands for any authenticated user.
ANY = "*"


class Settings(BaseSettings):
    """Every configuration key, its type and its default. docs/configuration.md lists them all."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="forbid", frozen=True, validate_default=True
    )

    data_dir: Path = Field(
        Path("buildapi-data"), description="Directory for the embedded SQLite databases."
    )
    schedulerdb_url: str = Field(
        "", description="SQLAlchemy URL of the Buildbot scheduler database; empty = SQLite."
    )
    statusdb_url: str = Field("", description="SQLAlchemy URL of the status database.")
    buildapi_db_url: str = Field("", description="SQLAlchemy URL of BuildAPI's own database.")
    sqlite_busy_timeout_seconds: float = Field(
        30.0, gt=0, description="How long SQLite waits for a lock before failing."
    )
    db_connect_timeout_seconds: int = Field(
        5, gt=0, description="Connect timeout for MariaDB/MySQL and PostgreSQL."
    )
    timezone: str = Field(
        "America/Los_Angeles", description="IANA zone for day boundaries and page times."
    )
    broker_url: str = Field(
        "memory://", description="kombu URL of the message broker (amqp://... in production)."
    )
    broker_connect_timeout_seconds: float = Field(
        5.0, gt=0, description="How long a broker health check waits."
    )
    broker_exchange: str = Field(
        "buildapi.control", description="Durable topic exchange for job requests and results."
    )
    broker_agent_queue: str = Field(
        "buildapi-agent", description="Queue the agents consume (routing key `requests`)."
    )
    broker_web_queue: str = Field(
        "buildapi-web", description="Queue the web consumes results from (routing key `finished`)."
    )
    broker_dead_letter_queue: str = Field(
        "buildapi-dead", description="Where messages no agent understands are kept for a human."
    )
    broker_heartbeat_seconds: int = Field(
        60, ge=0, description="AMQP heartbeat interval; 0 turns heartbeats off."
    )
    broker_queue_type: QueueType = Field(
        "quorum",
        description=(
            "Type of the job-request and results queues on RabbitMQ: quorum (replicated, with a "
            "delivery limit and dead-lettering), or classic, the declaration without arguments "
            "of brokers set up before quorum queues."
        ),
    )
    broker_delivery_limit: int = Field(
        5,
        ge=1,
        description=(
            "Quorum queues: deliveries a message may lose (its consumer died holding it) before "
            "the broker moves it to the dead-letter queue."
        ),
    )
    broker_prefetch_count: int = Field(
        1, ge=1, description="Unacknowledged messages each consumer may hold at once."
    )
    broker_retry_delay_seconds: float = Field(
        5.0,
        gt=0,
        description=(
            "How long a message that could not be handled now (its database away) waits before "
            "it is delivered again."
        ),
    )
    outbox_every_seconds: float = Field(
        5.0, gt=0, description="How often the relay looks for job requests to send (again)."
    )
    jobs_resend_after_seconds: int = Field(
        60, ge=1, description="An unanswered job request is sent again after this long."
    )
    jobs_max_sends: int = Field(
        8, ge=1, description="Sends of an unanswered job request before it is answered failed."
    )
    auth_htpasswd_file: str = Field(
        "", description="htpasswd file whose users may log in with their password; empty = none."
    )
    auth_proxy_header: str = Field(
        "X-Remote-User", description="Header naming the user, set by a trusted reverse proxy."
    )
    auth_trusted_proxies: list[str] = Field(
        default_factory=list,
        description=(
            "Socket peers (addresses or CIDR) whose proxy header and forwarding headers are "
            "believed; empty = never."
        ),
    )
    proxy_forwarded_headers: Literal["x-forwarded", "forwarded"] = Field(
        "x-forwarded",
        description=(
            "Which headers the trusted proxies write: X-Forwarded-For/-Proto (nginx's usual "
            "setup) or RFC 7239 Forwarded. The other kind is ignored: the client may have sent it."
        ),
    )
    auth_dev_user: str = Field(
        "", description="Act as this user without credentials; only served on loopback."
    )
    auth_branch_groups: dict[str, list[str]] = Field(
        default_factory=lambda: {"mozilla-beta": ["releng"]},
        description="Branches that need one of these groups; other branches: any user.",
    )
    secret_key: str = Field(
        "",
        description=(
            "Signs the CSRF tokens; every web worker needs the same. Empty = a random one kept "
            "in data_dir/secret_key (enough when the workers share data_dir)."
        ),
    )
    read_requires_auth: bool = Field(False, description="Ask for credentials on reads too.")
    policy_act_on_others: dict[str, list[str]] = Field(
        default_factory=lambda: {ANY: ["releng", "sheriffs"]},
        description=(
            "Branch -> groups whose members may cancel or reprioritize requests another user made"
            ' through self-serve ("*" entry: unlisted branches; "*" group: any user). Default'
            " releng and sheriffs: a developer must not stop a colleague's rebuild."
        ),
    )
    policy_act_on_scheduled: dict[str, list[str]] = Field(
        default_factory=lambda: {ANY: [ANY]},
        description=(
            "Branch -> groups whose members may cancel or reprioritize scheduler-made requests of"
            " pushes that are not theirs. Default any user: developers stop the builds of a bad"
            " push, their own or not, as legacy allowed."
        ),
    )
    policy_priority_ceiling: dict[str, int] = Field(
        default_factory=lambda: {ANY: 10, "releng": PRIORITY_RANGE[1]},
        description=(
            'Group -> highest priority its members may set ("*": users of no listed group; a'
            " user gets the highest of their groups). Default 10, releng 1000: anyone may move"
            " work ahead of the farm's priority-0 requests, only releng may jump the queue."
        ),
    )
    jobs_show_who: Literal["everyone", "authenticated"] = Field(
        "authenticated",
        description=(
            "Who sees the user (an e-mail address) of each job in /self-serve/jobs; anonymous"
            " readers see null and may not filter by who."
        ),
    )
    write_rate_per_minute: int = Field(
        60,
        gt=0,
        description="Weight (a rebuild's count, else 1) one user may record per minute (429).",
    )
    write_max_body_bytes: int = Field(
        65536, gt=0, description="Largest body a write endpoint accepts (400 beyond)."
    )
    write_allow_unknown_revisions: bool = Field(
        False,
        description=(
            "Accept new builds (dep, nightly, PGO) at a revision no sourcestamp of the branch"
            " has, as legacy did, for farms whose pushes are not all in the scheduler database;"
            " otherwise those are 404."
        ),
    )
    agent_backend: AgentBackend = Field(
        "buildbot08", description="The kind of farm the agent acts on (buildbot08: Buildbot 0.8)."
    )
    agent_http_timeout_seconds: float = Field(
        30.0, gt=0, description="Timeout of every HTTP call the agent makes to masters."
    )
    agent_stop_confirm_seconds: float = Field(
        30.0,
        gt=0,
        description="How long the agent waits for a build it asked a master to stop to end.",
    )
    agent_race_check_seconds: float = Field(
        10.0,
        gt=0,
        description="Seconds between the agent's looks for builds of requests it cancelled.",
    )
    agent_metrics_port: int = Field(
        0, ge=0, le=65535, description="Port of `buildapi agent`'s own /metrics; 0 = none."
    )
    agent_metrics_host: str = Field(
        "127.0.0.1", description="Address `buildapi agent` serves its /metrics on."
    )
    clobberer_token: str = Field(
        "", description="Bearer token the agent sends to the clobberer; empty = none."
    )
    agent_name: str = Field(
        "",
        max_length=200,
        description="Name of the agent in its heartbeats and /healthz; empty = host:pid.",
    )
    agent_heartbeat_seconds: float = Field(
        10.0, gt=0, description="How often a running agent writes its heartbeat row."
    )
    agent_stale_seconds: float = Field(
        60.0,
        gt=0,
        description="An agent not heard from for this long counts as gone on /healthz.",
    )
    health_min_agents: int = Field(
        1,
        ge=0,
        description=(
            "Agents that must have been seen within agent_stale_seconds for /healthz to be OK"
            " (not on memory://, whose agent runs in the web's process); 0 = none required."
        ),
    )
    health_timeout_seconds: float = Field(
        3.0,
        gt=0,
        description="How long /readyz and /healthz wait for their checks, which run at once.",
    )
    branches_url: str = Field("", description="Branches JSON: path or http(s) URL.")
    masters_url: str = Field("", description="Masters JSON: path or http(s) URL.")
    builders_url: str = Field("", description="Builders JSON: path or http(s) URL.")
    slaves_url: str = Field("", description="Slaves JSON (pool -> names): path or http(s) URL.")
    layout_refresh_seconds: int = Field(
        300, gt=0, description="How often the farm layout files are fetched again."
    )
    layout_fetch_timeout_seconds: float = Field(
        30.0, gt=0, description="Timeout for fetching a farm layout URL."
    )
    host: str = Field("127.0.0.1", description="Address the web server listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port the web server listens on.")
    web_workers: int = Field(
        1,
        ge=1,
        description=(
            "Processes `buildapi web` serves with, on one socket; more than 1 needs a networked"
            " broker (amqp://), not memory://."
        ),
    )
    mount_prefix: str = Field(
        "", description="Path the app is served under, e.g. /buildapi; empty = the root."
    )
    log_level: str = Field("INFO", description="Python logging level.")
    log_format: LogFormat = Field(
        "text",
        description=(
            "Log lines as text (key=value fields after the message) or json (one object per line)."
        ),
    )
    reports_max_window_days: int = Field(
        31, gt=0, description="Longest time window a report may cover (400 beyond)."
    )
    dumps_dir: Path | None = Field(
        None,
        description="Where the JSON dumps are written and served from; default data_dir/buildjson.",
    )
    dumps_every_seconds: float = Field(
        60.0, gt=0, description="How often `buildapi demo` rewrites the live dumps."
    )
    cache_url: str = Field(
        "",
        description="redis://host:port/db for a cache shared by web workers; empty = in-process.",
    )
    events_poll_seconds: float = Field(
        1.0,
        gt=0,
        le=60,
        description="How often each web process looks for farm and job changes (/events).",
    )
    events_kept: int = Field(
        1000,
        ge=1,
        le=100_000,
        description="Events each web process keeps for clients that reconnect with Last-Event-ID.",
    )
    clobberer_url: str = Field(
        "http://127.0.0.1:8099/clobberer", description="Where clobber requests are POSTed."
    )
    farm_seed: int = Field(1, description="Seed of the simulated farm's random choices.")
    farm_speed: float = Field(
        60.0, gt=0, description="Simulated farm seconds per real second (durations, rates)."
    )
    farm_push_rates: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_PUSH_RATES),
        description="Pushes per farm hour for each branch; unlisted branches get 0.5.",
    )
    farm_tick_seconds: float = Field(
        1.0, gt=0, description="Real seconds between two steps of the running farm."
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("mount_prefix")
    @classmethod
    def _clean_prefix(cls, value: str) -> str:
        value = value.rstrip("/")
        if value and (not value.startswith("/") or value[1] in "/\\" or "\\" in value):
            raise ValueError("must start with one '/' and hold no backslash")
        return value

    @field_validator("cache_url")
    @classmethod
    def _known_cache(cls, value: str) -> str:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be empty or a redis://, rediss:// or unix:// URL")
        return value

    @field_validator("secret_key")
    @classmethod
    def _long_secret(cls, value: str) -> str:
        if value and len(value) < MIN_SECRET_LENGTH:
            raise ValueError(f"must be empty or at least {MIN_SECRET_LENGTH} characters")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        upper = value.upper()
        if upper not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return upper

    @field_validator("policy_act_on_others", "policy_act_on_scheduled")
    @classmethod
    def _branch_groups(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        if ANY not in value:
            raise ValueError(f"needs a {ANY!r} entry for the branches not listed")
        for branch, groups in value.items():
            if not branch or not all(group.strip() for group in groups):
                raise ValueError(f"branch {branch!r}: names must not be empty")
        return value

    @field_validator("policy_priority_ceiling")
    @classmethod
    def _ceilings(cls, value: dict[str, int]) -> dict[str, int]:
        low, high = PRIORITY_RANGE
        if ANY not in value:
            raise ValueError(f"needs a {ANY!r} entry for users of no listed group")
        for group, ceiling in value.items():
            if not low <= ceiling <= high:
                raise ValueError(f"group {group!r}: {ceiling} is outside {low} to {high}")
        return value

    @model_validator(mode="after")
    def _separate_databases(self) -> Settings:
        # Both schemas have tables named builds, changes and sourcestamps.
        if self.schedulerdb_url and self.schedulerdb_url == self.statusdb_url:
            raise ValueError("schedulerdb_url and statusdb_url must name different databases")
        return self

    @model_validator(mode="after")
    def _heartbeats_before_stale(self) -> Settings:
        # An agent that beats on time must never look stale between two beats.
        if self.agent_stale_seconds <= self.agent_heartbeat_seconds:
            raise ValueError("agent_stale_seconds must be longer than agent_heartbeat_seconds")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def dumps_path(self) -> Path:
        return self.dumps_dir or self.data_dir / "buildjson"

    def database_url(self, name: str) -> str:
        """The URL of database `name` (schedulerdb, statusdb, buildapi_db); SQLite by default."""
        url = getattr(self, f"{name}_url")
        return url or f"sqlite:///{(self.data_dir / f'{name}.sqlite').resolve()}"


def read_config_file(path: Path) -> dict[str, Any]:
    """Parse the TOML file, turning every failure into one ConfigError line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from exc
    try:
        values = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
    for key, value in values.items():
        field = Settings.model_fields.get(key)
        if isinstance(value, dict) and (field is None or get_origin(field.annotation) is not dict):
            raise ConfigError(
                f"config file {path}: key {key!r} is a table; BuildAPI keys are top-level"
            )
    return values


def load_settings(config_path: Path | str | None = None, **flags: Any) -> Settings:
    """Flags over BUILDAPI_* variables, over the file over defaults."""
    path = config_path or os.environ.get(CONFIG_ENV) or None
    file_values = read_config_file(Path(path)) if path else {}

    class FileSettings(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return init_settings, env_settings, InitSettingsSource(settings_cls, file_values)

    try:
        return FileSettings(**{key: value for key, value in flags.items() if value is not None})
    except ValidationError as exc:
        raise ConfigError(_describe(exc, file_values, path)) from None


def _describe(exc: ValidationError, file_values: dict[str, Any], path: object) -> str:
    """One line naming the first bad key and where it came from."""
    error = exc.errors()[0]
    if not error["loc"]:  # a rule between keys, which names them itself
        return f"bad configuration: {error['msg'].removeprefix('Value error, ')}"
    key = ".".join(str(part) for part in error["loc"])
    if error["type"] == "extra_forbidden":
        return f"config file {path}: unknown key {key!r}"
    top = str(error["loc"][0])  # a table's entry: its key's source
    env_name = f"{ENV_PREFIX}{top.upper()}"
    where = env_name if env_name in os.environ or top not in file_values else f"config file {path}"
    return f"bad value for {key!r} (from {where}): {error['msg']}"
