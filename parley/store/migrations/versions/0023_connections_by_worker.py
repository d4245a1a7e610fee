"""node_connections.worker: each worker process of a node counts in rows of its own

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 12:10:00.000000

The workers of one node (`parley serve --workers N`) counted their connections in shared rows,
so one that died and was started again could not tell which counts were its previous life's:
they stayed, and held whoever they named in the room for good. Rows counted before this are a
single process's: worker 0.
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"

_KEY = ["space_id", "account_id", "node_id"]


def upgrade() -> None:
    with op.batch_alter_table("node_connections") as table:
        table.add_column(sa.Column("worker", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("node_connections") as table:
        table.alter_column("worker", server_default=None)
        table.drop_constraint(op.f("pk_node_connections"), type_="primary")
        table.create_primary_key(op.f("pk_node_connections"), [*_KEY, "worker"])


def downgrade() -> None:
    # The workers' rows of one (space, account, node) become one, holding their sum.
    same = (
        "n.space_id = node_connections.space_id AND n.account_id = node_connections.account_id"
        " AND n.node_id = node_connections.node_id"
    )
    first = f"(SELECT MIN(n.worker) FROM node_connections n WHERE {same})"
    op.execute(
        f"UPDATE node_connections SET sockets = "
        f"(SELECT SUM(n.sockets) FROM node_connections n WHERE {same}) WHERE worker = {first}"
    )
    op.execute(f"DELETE FROM node_connections WHERE worker > {first}")
    with op.batch_alter_table("node_connections") as table:
        table.drop_constraint(op.f("pk_node_connections"), type_="primary")
        table.drop_column("worker")
        table.create_primary_key(op.f("pk_node_connections"), _KEY)
