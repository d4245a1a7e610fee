"""Storage of transcripts: each space's final captions, one row per caption event. A recorded
space's transcript goes with its recording: the lines of a trimmed-away start with the trim, all
of them with the recording's deletion (store/recordings.py, `mark_deleted`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, exists, insert, select

from parley.core.captions import Caption, TranscriptHit, TranscriptLine
from parley.core.moderation import ReportStatus, ReportTarget
from parley.core.spaces.model import SpaceStatus
from parley.store.prebuilt import RowLike
from parley.store.rows import Store
from parley.store.tables import accounts, recordings, reports, spaces, transcript_lines

_LINE = (
    transcript_lines.c.space_id,
    transcript_lines.c.start_ms,
    transcript_lines.c.end_ms,
    transcript_lines.c.text,
    transcript_lines.c.speaker_id,
    accounts.c.display_name,
)


def _line(row: RowLike) -> TranscriptLine:
    return TranscriptLine(
        space_id=row.space_id,
        speaker=row.speaker_id,
        speaker_name=row.display_name,
        text=row.text,
        start=row.start_ms / 1000,
        end=row.end_ms / 1000,
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class TranscriptStore(Store):
    async def add(self, space_id: str, seq: int, said: Caption) -> None:
        await self.conn.execute(
            insert(transcript_lines).values(
                space_id=space_id,
                seq=seq,
                speaker_id=said.speaker,
                start_ms=round(said.start * 1000),
                end_ms=round(said.end * 1000),
                text=said.text,
            )
        )

    async def lines(
        self, space_id: str, *, after: float | None = None, before: float | None = None
    ) -> list[TranscriptLine]:
        """The space's transcript in order of time; only lines that end after `after` and start
        before `before` (seconds from the space's start) when given."""
        query = (
            select(*_LINE)
            .join(accounts, accounts.c.id == transcript_lines.c.speaker_id)
            .where(transcript_lines.c.space_id == space_id)
            .order_by(transcript_lines.c.start_ms, transcript_lines.c.seq)
        )
        if after is not None:
            query = query.where(transcript_lines.c.end_ms >= round(after * 1000))
        if before is not None:
            query = query.where(transcript_lines.c.start_ms <= round(before * 1000))
        return await self._all(query, _line)

    async def drop(self, space_id: str, *, ending_by: float | None = None) -> None:
        """Forget the space's lines: all of them, or those over by `ending_by` seconds from the
        space's start (what a trim of the recording's start took away)."""
        query = delete(transcript_lines).where(transcript_lines.c.space_id == space_id)
        if ending_by is not None:
            query = query.where(transcript_lines.c.end_ms <= round(ending_by * 1000))
        await self.conn.execute(query)

    async def unrecorded_over(self, cutoff: datetime) -> list[str]:
        """Spaces never recorded, over before `cutoff`, that still have lines and that no open
        report holds: their words follow the retention a recording would have had."""
        reported = exists().where(
            reports.c.target_type == ReportTarget.SPACE.value,
            reports.c.target_id == spaces.c.id,
            reports.c.status == ReportStatus.OPEN.value,
        )
        recorded = exists().where(recordings.c.space_id == spaces.c.id)
        has_lines = exists().where(transcript_lines.c.space_id == spaces.c.id)
        query = select(spaces.c.id).where(
            spaces.c.ended_at.is_not(None),
            spaces.c.ended_at < cutoff,
            has_lines,
            ~recorded,
            ~reported,
        )
        return list((await self.conn.execute(query)).scalars())

    async def search(self, words: str, *, limit: int) -> list[TranscriptHit]:
        """Lines that contain `words` (case-insensitive), newest spaces first: of recorded
        spaces whose recording is kept (hidden ones too: moderators review those), and of live
        spaces (what is being said now, reported or not). An ended space that was not recorded,
        or whose recording was deleted, is not searched."""
        kept = recordings.c.space_id.is_not(None) & recordings.c.deleted_at.is_(None)
        query = (
            select(*_LINE, spaces.c.title)
            .join(accounts, accounts.c.id == transcript_lines.c.speaker_id)
            .join(spaces, spaces.c.id == transcript_lines.c.space_id)
            .outerjoin(recordings, recordings.c.space_id == transcript_lines.c.space_id)
            .where(transcript_lines.c.text.ilike(f"%{_escape_like(words)}%", escape="\\"))
            .where(kept | (spaces.c.state == SpaceStatus.LIVE.value))
            .order_by(spaces.c.created_at.desc(), transcript_lines.c.start_ms)
            .limit(limit)
        )
        return await self._all(query, lambda row: TranscriptHit(_line(row), row.title))
