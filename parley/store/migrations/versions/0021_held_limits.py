"""accounts.restricted_by and held_limits: which action a restriction is, and a limit a
suspension came over

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 13:00:00.000000

An account's state says only that it is suspended or limited. An appeal overturning an action
must lift the restriction that action imposed, not a later one of the same kind (a suspension
appealed after it ended, the account suspended again since): `restricted_by` names the action
behind the current one. A suspension of a limited account stops more than the limit did, but
must not end it: the limit waits in `held_limits` and holds again when the suspension ends,
unless its own end came first or an appeal overturned it meanwhile.

Accounts restricted before this get the newest action of their kind, when one names them.
"""

import sqlalchemy as sa
from alembic import op

from parley.store.types import UTCDateTime

revision: str = "0021"
down_revision: str | None = "0020"


def upgrade() -> None:
    op.add_column("accounts", sa.Column("restricted_by", sa.String(32), nullable=True))
    op.create_table(
        "held_limits",
        sa.Column("account_id", sa.String(32), nullable=False),
        sa.Column("action_id", sa.String(32), nullable=True),
        sa.Column("until", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_held_limits_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_held_limits")),
    )
    op.execute(
        """
        UPDATE accounts SET restricted_by = (
            SELECT a.id FROM moderation_actions a
            WHERE a.target_type = 'account' AND a.target_id = accounts.id
              AND a.action = CASE accounts.state WHEN 'suspended' THEN 'suspend' ELSE 'limit' END
            ORDER BY a.created_at DESC LIMIT 1
        )
        WHERE state IN ('suspended', 'limited')
        """
    )


def downgrade() -> None:
    op.drop_table("held_limits")
    op.drop_column("accounts", "restricted_by")
