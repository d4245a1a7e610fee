"""node_connections: each node's open event sockets, per participant

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 13:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"


def upgrade() -> None:
    op.create_table(
        "node_connections",
        sa.Column("space_id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("node_id", sa.String(length=32), nullable=False),
        sa.Column("sockets", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "space_id", "account_id", "node_id", name=op.f("pk_node_connections")
        ),
    )
    op.create_index(
        op.f("ix_node_connections_node_id"), "node_connections", ["node_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_node_connections_node_id"), table_name="node_connections")
    op.drop_table("node_connections")
