"""notification_marks: how far each account has read its notifications

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 06:00:00.000000

One row per account that has read any: the id of the newest notification it has seen, so every
device shows the same unread count (core.notifications). An account without a row has seen none.
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"


def upgrade() -> None:
    op.create_table(
        "notification_marks",
        sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), primary_key=True),
        sa.Column("seen_id", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("notification_marks")
