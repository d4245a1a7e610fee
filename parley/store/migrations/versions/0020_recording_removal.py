"""recordings.removed_by: a recording a moderator removed, and the action that did

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 11:00:00.000000

A moderator's removal hides the recording from everyone at once (410, as a deletion) but keeps
its files and rows while its host may appeal: a moderator overturning the removal (its notice
names the action) clears it and the recording is back; otherwise its retention deletes it as
any other. Recordings deleted by moderators before this were deleted at once and stay so.
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"


def upgrade() -> None:
    op.add_column("recordings", sa.Column("removed_by", sa.String(32), nullable=True))


def downgrade() -> None:
    op.drop_column("recordings", "removed_by")
