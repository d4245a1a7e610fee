"""held posts: posts kept back until the location policy allows their place

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 10:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

from parley.store.types import UTCDateTime

revision: str = "0009"
down_revision: str | None = "0008"


def upgrade() -> None:
    op.create_table(
        "held_posts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("author_id", sa.String(length=32), nullable=False),
        sa.Column("text", sa.String(length=280), nullable=False),
        sa.Column("place_latitude", sa.Float(), nullable=False),
        sa.Column("place_longitude", sa.Float(), nullable=False),
        sa.Column("place_observed_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("place_label", sa.String(length=100), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("publish_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["accounts.id"], name=op.f("fk_held_posts_author_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_held_posts")),
    )
    op.create_index(op.f("ix_held_posts_author_id"), "held_posts", ["author_id"], unique=False)
    op.create_index(op.f("ix_held_posts_publish_at"), "held_posts", ["publish_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_held_posts_publish_at"), table_name="held_posts")
    op.drop_index(op.f("ix_held_posts_author_id"), table_name="held_posts")
    op.drop_table("held_posts")
