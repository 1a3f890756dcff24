"""The rate limit weighs each job request by its count and takes a per-user lock row: add
jobrequests.weight and the write_quotas table.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobrequests") as batch:
        batch.add_column(
            sa.Column("weight", sa.Integer, nullable=False, server_default=sa.text("1"))
        )
    op.create_table(
        "write_quotas",
        sa.Column("who", sa.String(512), primary_key=True),
        sa.Column("touched_at", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("write_quotas")
    with op.batch_alter_table("jobrequests") as batch:
        batch.drop_column("weight")
