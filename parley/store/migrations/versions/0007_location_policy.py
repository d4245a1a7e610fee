"""places in posts and the location policy

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 08:55:00.000000
"""

import sqlalchemy as sa
from alembic import op

from parley.store.types import UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"


def upgrade() -> None:
    with op.batch_alter_table("posts") as batch:
        batch.add_column(sa.Column("place_latitude", sa.Float(), nullable=True))
        batch.add_column(sa.Column("place_longitude", sa.Float(), nullable=True))
        batch.add_column(sa.Column("place_observed_at", UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("place_label", sa.String(length=100), nullable=True))
    op.create_table(
        "policies",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("delay_seconds", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_policies")),
    )


def downgrade() -> None:
    op.drop_table("policies")
    with op.batch_alter_table("posts") as batch:
        batch.drop_column("place_label")
        batch.drop_column("place_observed_at")
        batch.drop_column("place_longitude")
        batch.drop_column("place_latitude")
