"""posts.deleted_at: a post its author deleted

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 06:30:00.000000

The row stays, so a report about the post and the moderation that followed still name what was
said; nobody else is shown it again (store.accounts, the shown posts).
"""

import sqlalchemy as sa
from alembic import op

from parley.store.types import UTCDateTime

revision: str = "0016"
down_revision: str | None = "0015"


def upgrade() -> None:
    op.add_column("posts", sa.Column("deleted_at", UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("posts", "deleted_at")
