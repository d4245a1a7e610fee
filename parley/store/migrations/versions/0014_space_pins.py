"""spaces.pinned: the posts pinned to a space, the latest first

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 02:00:00.000000

A JSON list of post ids on the space's row, like its topics: a few at most (core.spaces.pins),
read and written with the space in the one transaction every decision about it runs in.
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"


def upgrade() -> None:
    op.add_column("spaces", sa.Column("pinned", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    op.drop_column("spaces", "pinned")
