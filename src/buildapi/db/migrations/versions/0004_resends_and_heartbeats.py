"""A job request's record is the truth and a broker message only a hint: jobrequests.sent_at
says when it was last handed to the broker, so an unanswered one is sent again. Agents say they
are alive in agent_heartbeats.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobrequests") as batch:
        batch.add_column(sa.Column("sent_at", sa.Integer))
    op.create_index("jobrequests_state_sent", "jobrequests", ["state", "sent_at"])
    op.create_table(
        "agent_heartbeats",
        sa.Column("agent", sa.String(200), primary_key=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("started_at", sa.Integer, nullable=False),
        sa.Column("seen_at", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("agent_heartbeats")
    op.drop_index("jobrequests_state_sent", "jobrequests")
    with op.batch_alter_table("jobrequests") as batch:
        batch.drop_column("sent_at")
