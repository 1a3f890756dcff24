"""Job requests and API tokens.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "jobrequests",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("who", sa.String(512), nullable=False),
        sa.Column("when", sa.Integer, nullable=False),
        sa.Column("completed_at", sa.Integer),
        sa.Column("what", sa.Text, nullable=False),
        sa.Column("complete_data", sa.Text),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("branch", sa.String(100)),
        sa.Column("idempotency_key", sa.String(200)),
        sa.Column("attempts", sa.Integer, nullable=False),
    )
    for column in ("when", "who", "action", "branch", "state"):
        op.create_index(f"jobrequests_{column}", "jobrequests", [column])
    op.create_index(
        "jobrequests_idempotency", "jobrequests", ["who", "idempotency_key"], unique=True
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user", sa.String(512), nullable=False),
        sa.Column("groups", sa.String(1024), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.Integer, nullable=False),
        sa.Column("last_used_at", sa.Integer),
        sa.Column("revoked_at", sa.Integer),
    )
    op.create_index("api_tokens_user", "api_tokens", ["user"])


def downgrade() -> None:
    op.drop_table("api_tokens")
    op.drop_table("jobrequests")
