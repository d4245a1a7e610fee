"""participants.audio_lost: a stage member whose audio connection died and is not back yet

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 16:30:00.000000

Kept with the participant, so that a snapshot (a client joining or resyncing during the outage)
shows them reconnecting as the `speaker_audio` events did. Nobody's is lost before this.
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"


def upgrade() -> None:
    with op.batch_alter_table("participants") as table:
        table.add_column(
            sa.Column("audio_lost", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("participants") as table:
        table.alter_column("audio_lost", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("participants") as table:
        table.drop_column("audio_lost")
