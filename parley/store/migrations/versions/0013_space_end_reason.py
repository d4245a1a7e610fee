"""spaces.end_reason: why a space ended or was cancelled, on its row

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 15:30:00.000000

A space moderation ended is withheld everywhere for good (410 `space_removed`), lists included,
so the reason must be something a query can filter on, not only the payload of its last event.
Spaces already over take the reason their `space_ended` or `space_cancelled` event gave.
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"

# As they stood in this revision: later changes to the tables must not change what this does.
_spaces = sa.table("spaces", sa.column("id", sa.String), sa.column("end_reason", sa.String))
_events = sa.table(
    "space_events",
    sa.column("space_id", sa.String),
    sa.column("type", sa.String),
    sa.column("data", sa.JSON),
)


def upgrade() -> None:
    op.add_column("spaces", sa.Column("end_reason", sa.String(length=32), nullable=True))
    bind = op.get_bind()
    over = bind.execute(
        sa.select(_events.c.space_id, _events.c.data).where(
            _events.c.type.in_(("space_ended", "space_cancelled"))
        )
    )
    for space_id, data in over:
        reason = data.get("reason") if isinstance(data, dict) else None
        if isinstance(reason, str):
            bind.execute(
                sa.update(_spaces).where(_spaces.c.id == space_id).values(end_reason=reason[:32])
            )


def downgrade() -> None:
    op.drop_column("spaces", "end_reason")
