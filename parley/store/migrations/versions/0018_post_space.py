"""posts.space_id, held_posts.space_id: the space a post shares, shown with it as a card

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 08:20:00.000000

Null for a post that shares none. The card is read when the post is, under the space's own
rules, so a space taken down after the post was written is no longer shown with it.
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"


def upgrade() -> None:
    for table in ("posts", "held_posts"):
        op.add_column(table, sa.Column("space_id", sa.String(32), nullable=True))


def downgrade() -> None:
    for table in ("held_posts", "posts"):
        op.drop_column(table, "space_id")
