"""session expiry: when each session was last used

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 21:50:00.000000
"""

import sqlalchemy as sa
from alembic import op

import parley.store.types

revision: str = "0003"
down_revision: str | None = "0002"


def upgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("last_used_at", parley.store.types.UTCDateTime(timezone=True), nullable=True)
        )
    # Sessions from before expiry existed count as used when they were made: a token unused
    # for longer than the idle limit stops working once this runs.
    op.execute("UPDATE sessions SET last_used_at = created_at")
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.alter_column(
            "last_used_at",
            existing_type=parley.store.types.UTCDateTime(timezone=True),
            nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_column("last_used_at")
