"""The rate limit reads a user's newest job requests: index them by (who, when).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("jobrequests_who", table_name="jobrequests")
    op.create_index("jobrequests_who_when", "jobrequests", ["who", "when"])


def downgrade() -> None:
    op.drop_index("jobrequests_who_when", table_name="jobrequests")
    op.create_index("jobrequests_who", "jobrequests", ["who"])
