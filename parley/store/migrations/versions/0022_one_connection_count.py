"""participants.connections goes: node_connections is the one count of open connections

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 23:00:00.000000

A participant's open connections were counted twice: in total on their row, and by node in
`node_connections`. A socket opening on one node while its owner joined on another wrote each
into a different row, and on PostgreSQL (read committed) the join's total could miss the
socket: its owner was then let go with it open. Presence now asks the nodes' counts alone.
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"


def upgrade() -> None:
    op.drop_column("participants", "connections")


def downgrade() -> None:
    op.add_column(
        "participants",
        sa.Column("connections", sa.Integer(), server_default="0", nullable=False),
    )
    op.execute(
        """
        UPDATE participants SET connections = COALESCE((
            SELECT SUM(n.sockets) FROM node_connections n
            WHERE n.space_id = participants.space_id AND n.account_id = participants.account_id
        ), 0)
        """
    )
