"""transcripts: the final captions of each space

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 10:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"


def upgrade() -> None:
    op.create_table(
        "transcript_lines",
        sa.Column("space_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("speaker_id", sa.String(length=32), nullable=False),
        sa.Column("start_ms", sa.Integer(), nullable=False),
        sa.Column("end_ms", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["space_id"], ["spaces.id"], name=op.f("fk_transcript_lines_space_id_spaces")
        ),
        sa.ForeignKeyConstraint(
            ["speaker_id"], ["accounts.id"], name=op.f("fk_transcript_lines_speaker_id_accounts")
        ),
        sa.PrimaryKeyConstraint("space_id", "seq", name=op.f("pk_transcript_lines")),
    )


def downgrade() -> None:
    op.drop_table("transcript_lines")
