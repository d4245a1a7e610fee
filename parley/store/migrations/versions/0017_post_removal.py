"""posts.removed_by: a post a moderator removed, and the action that did

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 07:00:00.000000

The moderation action's id: the post is shown to nobody while it is set, and a moderator
overturning that action on appeal (its notice names it) clears it, showing the post again.
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"


def upgrade() -> None:
    op.add_column("posts", sa.Column("removed_by", sa.String(32), nullable=True))


def downgrade() -> None:
    op.drop_column("posts", "removed_by")
