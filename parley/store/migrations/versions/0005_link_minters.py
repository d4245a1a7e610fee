"""links remember the account that shared them

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 21:50:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"


def upgrade() -> None:
    # Who shared a link: the redirector warns about links from accounts younger than a setting.
    # Null for links made before this revision.
    with op.batch_alter_table("links", schema=None) as batch_op:
        batch_op.add_column(sa.Column("created_by", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("links", schema=None) as batch_op:
        batch_op.drop_column("created_by")
