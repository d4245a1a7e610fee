"""recordings, their segments and clips

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 10:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from parley.store.types import UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "recordings",
        sa.Column("space_id", sa.String(length=32), nullable=False),
        sa.Column("host_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("finalized_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("deleted_by", sa.String(length=32), nullable=True),
        sa.Column("deletion", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["host_id"], ["accounts.id"], name=op.f("fk_recordings_host_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["space_id"], ["spaces.id"], name=op.f("fk_recordings_space_id_spaces")
        ),
        sa.PrimaryKeyConstraint("space_id", name=op.f("pk_recordings")),
    )
    op.create_index(op.f("ix_recordings_host_id"), "recordings", ["host_id"], unique=False)
    op.create_index(
        op.f("ix_recordings_finalized_at"), "recordings", ["finalized_at"], unique=False
    )
    op.create_table(
        "recording_segments",
        sa.Column("space_id", sa.String(length=32), nullable=False),
        sa.Column("sequence", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("duration", sa.Float(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("discontinuity", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["space_id"],
            ["recordings.space_id"],
            name=op.f("fk_recording_segments_space_id_recordings"),
        ),
        sa.PrimaryKeyConstraint("space_id", "sequence", name=op.f("pk_recording_segments")),
    )
    op.create_table(
        "clips",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("space_id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("start_sequence", sa.BigInteger(), nullable=False),
        sa.Column("start_offset", sa.Float(), nullable=False),
        sa.Column("duration", sa.Float(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_clips_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(["space_id"], ["spaces.id"], name=op.f("fk_clips_space_id_spaces")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clips")),
    )
    op.create_index(op.f("ix_clips_space_id"), "clips", ["space_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_clips_space_id"), table_name="clips")
    op.drop_table("clips")
    op.drop_table("recording_segments")
    op.drop_index(op.f("ix_recordings_finalized_at"), table_name="recordings")
    op.drop_index(op.f("ix_recordings_host_id"), table_name="recordings")
    op.drop_table("recordings")
