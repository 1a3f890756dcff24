"""BuildAPI's own database: job requests (the self-serve audit log and pipeline state) and
API tokens. Managed by the Alembic migrations in db/migrations; keep the two in step."""

from sqlalchemy import Column, Index, Integer, MetaData, String, Table, Text, text

metadata = MetaData()

jobrequests = Table(
    "jobrequests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("action", String(32), nullable=False),
    Column("who", String(512), nullable=False),
    Column("when", Integer, nullable=False),
    Column("completed_at", Integer),
    # JSON of the action's arguments, without `when` and `request_id`.
    Column("what", Text, nullable=False),
    # JSON of the whole `finished` message once the agent has answered.
    Column("complete_data", Text),
    # recorded -> published -> complete; the outbox republishes `recorded` rows.
    Column("state", String(16), nullable=False, default="recorded"),
    Column("branch", String(100)),
    Column("idempotency_key", String(200)),
    Column("attempts", Integer, nullable=False, default=0),
    # What the request costs of the user's write_rate_per_minute: its `count` of builds.
    Column("weight", Integer, nullable=False, server_default=text("1")),
    # When it was last handed to the broker; unanswered, it is sent again after a while.
    Column("sent_at", Integer),
    Index("jobrequests_when", "when"),
    Index("jobrequests_who_when", "who", "when"),
    Index("jobrequests_action", "action"),
    Index("jobrequests_branch", "branch"),
    Index("jobrequests_state", "state"),
    Index("jobrequests_idempotency", "who", "idempotency_key", unique=True),
    Index("jobrequests_state_sent", "state", "sent_at"),
)

# One row per user who writes: updating it is the lock that serialises the user's writes, so
# the quota check and the insert of a job request cannot interleave across web workers.
write_quotas = Table(
    "write_quotas",
    metadata,
    Column("who", String(512), primary_key=True, autoincrement=False),
    Column("touched_at", Integer, nullable=False),
)

# One row per agent, rewritten every few seconds while it runs: /healthz counts the agents seen
# recently.
agent_heartbeats = Table(
    "agent_heartbeats",
    metadata,
    Column("agent", String(200), primary_key=True, autoincrement=False),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", Integer, nullable=False),
    Column("seen_at", Integer, nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user", String(512), nullable=False),
    # Comma-separated group names, used by per-branch authorization.
    Column("groups", String(1024), nullable=False, default=""),
    # SHA-256 hex of the token; the token itself is shown once and never stored.
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", Integer, nullable=False),
    Column("last_used_at", Integer),
    Column("revoked_at", Integer),
    Index("api_tokens_user", "user"),
)
