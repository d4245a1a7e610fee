"""spaces.tuned_in, spaces.peak_listeners: what a space that is over says of its audience

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 08:40:00.000000

`tuned_in` counts every account that was ever in the space, once; the participants table
already has a row for each, so older spaces get their count from it. `peak_listeners`, the most
listeners at once, was never kept: older spaces say 0 (clients show it only when above 0).
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"


def upgrade() -> None:
    for name in ("tuned_in", "peak_listeners"):
        op.add_column("spaces", sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
    op.execute(
        "UPDATE spaces SET tuned_in = "
        "(SELECT COUNT(*) FROM participants WHERE participants.space_id = spaces.id)"
    )


def downgrade() -> None:
    for name in ("peak_listeners", "tuned_in"):
        op.drop_column("spaces", name)
