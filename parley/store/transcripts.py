"""Storage of transcripts: each space's final captions, one row per caption event."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, insert, select

from parley.core.captions import Caption, TranscriptHit, TranscriptLine
from parley.store.rows import Store
from parley.store.tables import accounts, spaces, transcript_lines

_LINE = (
    transcript_lines.c.space_id,
    transcript_lines.c.start_ms,
    transcript_lines.c.end_ms,
    transcript_lines.c.text,
    transcript_lines.c.speaker_id,
    accounts.c.display_name,
)


def _line(row: Row[Any]) -> TranscriptLine:
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

    async def search(self, words: str, *, limit: int) -> list[TranscriptHit]:
        """Lines of any space that contain `words` (case-insensitive), newest spaces first."""
        query = (
            select(*_LINE, spaces.c.title)
            .join(accounts, accounts.c.id == transcript_lines.c.speaker_id)
            .join(spaces, spaces.c.id == transcript_lines.c.space_id)
            .where(transcript_lines.c.text.ilike(f"%{_escape_like(words)}%", escape="\\"))
            .order_by(spaces.c.created_at.desc(), transcript_lines.c.start_ms)
            .limit(limit)
        )
        return await self._all(query, lambda row: TranscriptHit(_line(row), row.title))
