"""Recordings: which spaces are recorded, the index of their segments on disk, and clips."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, delete, exists, func, select, update

from parley.core.accounts import WITHDRAWN_STATES
from parley.core.moderation import ReportStatus, ReportTarget
from parley.core.recordings import Clip, Deletion, RecordedSegment, Recording
from parley.core.spaces.events import Event, EventType
from parley.core.spaces.model import SpaceStatus
from parley.store.among import among
from parley.store.prebuilt import RowLike
from parley.store.rows import Store, columns_of, insert_ignoring_duplicate, record
from parley.store.spaces import stored_event
from parley.store.tables import (
    accounts,
    appeals,
    clips,
    notices,
    participants,
    recording_segments,
    recordings,
    reports,
    space_events,
    spaces,
    transcript_lines,
)
from parley.store.types import storable_key


def _segment(row: RowLike) -> RecordedSegment:
    return record(RecordedSegment, row)


def _recording(row: RowLike) -> Recording:
    return record(Recording, row)


def _reported() -> ColumnElement[bool]:
    return exists().where(
        reports.c.target_type == ReportTarget.SPACE.value,
        reports.c.target_id == recordings.c.space_id,
        reports.c.status == ReportStatus.OPEN.value,
    )


def _removal_appealed() -> ColumnElement[bool]:
    """The recording's removal is under appeal (its notice names the removing action)."""
    return exists().where(
        notices.c.action_id == recordings.c.removed_by,
        appeals.c.notice_id == notices.c.id,
        appeals.c.decision.is_(None),
    )


class RecordingStore(Store):
    async def get(self, space_id: str) -> Recording | None:
        if not storable_key(space_id):
            return None
        query = select(recordings).where(recordings.c.space_id == space_id)
        return await self._first(query, _recording)

    async def begin(self, space_id: str, host_id: str, now: datetime) -> None:
        """The recording of a space exists from its first segment on (once)."""
        await insert_ignoring_duplicate(
            self.conn, recordings, columns_of(Recording(space_id, host_id, now))
        )

    async def add_segment(self, segment: RecordedSegment) -> bool:
        return await insert_ignoring_duplicate(self.conn, recording_segments, columns_of(segment))

    async def add_while_open(self, segment: RecordedSegment) -> Recording | None:
        """Index the segment if its recording is still open (neither final nor deleted), its
        row locked until the transaction ends: a finalize, delete or removal elsewhere (another
        node's sweep, a moderator) comes wholly before or after, never between the check and
        the index. The recording as it was; None if it does not exist. PostgreSQL; SQLite has
        one writer at a time anyway."""
        query = select(recordings).where(recordings.c.space_id == segment.space_id)
        recording = await self._first(query.with_for_update(), _recording)
        if recording is not None and recording.open:
            await self.add_segment(segment)
        return recording

    async def segments(self, space_id: str) -> list[RecordedSegment]:
        query = (
            select(recording_segments)
            .where(recording_segments.c.space_id == space_id)
            .order_by(recording_segments.c.sequence)
        )
        return await self._all(query, _segment)

    async def segment_count(self, space_id: str) -> int:
        counted = func.count(recording_segments.c.sequence)
        query = select(counted).where(recording_segments.c.space_id == space_id)
        return int((await self.conn.execute(query)).scalar_one())

    async def sequences(self, space_id: str) -> set[int]:
        """The sequence numbers indexed: what `segments` says, without reading whole rows."""
        query = select(recording_segments.c.sequence).where(
            recording_segments.c.space_id == space_id
        )
        return set((await self.conn.execute(query)).scalars())

    async def drop_segments(self, space_id: str, sequences: Sequence[int] | None = None) -> None:
        """Forget some segments (trimmed), or all of them (`None`: the recording is deleted)."""
        query = delete(recording_segments).where(recording_segments.c.space_id == space_id)
        if sequences is not None:
            query = query.where(among(recording_segments.c.sequence, list(sequences)))
        await self.conn.execute(query)

    async def finalize(self, space_id: str, now: datetime) -> None:
        await self.conn.execute(
            update(recordings)
            .where(recordings.c.space_id == space_id, recordings.c.finalized_at.is_(None))
            .values(finalized_at=now)
        )

    async def mark_deleted(
        self, space_id: str, how: Deletion, by: str | None, now: datetime
    ) -> None:
        await self.conn.execute(
            update(recordings)
            .where(recordings.c.space_id == space_id)
            .values(
                deleted_at=now, deleted_by=by, deletion=how.value, finalized_at=now, removed_by=None
            )
        )
        await self.drop_segments(space_id)
        await self.conn.execute(delete(clips).where(clips.c.space_id == space_id))
        # The words go with the audio: what a deleted recording held is not kept as text.
        await self.conn.execute(
            delete(transcript_lines).where(transcript_lines.c.space_id == space_id)
        )

    async def remove(self, space_id: str, action_id: str, by: str | None, now: datetime) -> bool:
        """A moderator removes it by action `action_id`: deleted to every reader, but its files
        and rows kept for an appeal (one still recording stops there). False if it is deleted
        already."""
        result = await self.conn.execute(
            update(recordings)
            .where(recordings.c.space_id == space_id, recordings.c.deleted_at.is_(None))
            .values(
                deleted_at=now,
                deleted_by=by,
                deletion=Deletion.MODERATOR.value,
                removed_by=action_id,
                finalized_at=func.coalesce(recordings.c.finalized_at, now),
            )
        )
        return bool(result.rowcount)

    async def restore_removed_by(self, action_id: str) -> str | None:
        """The recording that action removed is readable again (the removal overturned on
        appeal): its space's id; None if its retention deleted it meanwhile."""
        result = await self.conn.execute(
            update(recordings)
            .where(recordings.c.removed_by == action_id)
            .values(deleted_at=None, deleted_by=None, deletion=None, removed_by=None)
            .returning(recordings.c.space_id)
        )
        restored = result.scalar_one_or_none()
        return None if restored is None else str(restored)

    async def open_ones(self) -> list[str]:
        """Recordings not yet finalized (nor deleted), oldest first."""
        query = (
            select(recordings.c.space_id)
            .where(recordings.c.finalized_at.is_(None), recordings.c.deleted_at.is_(None))
            .order_by(recordings.c.created_at)
        )
        return list((await self.conn.execute(query)).scalars())

    async def final_ones(self) -> list[str]:
        """Recordings finalized and readable (neither deleted nor removed)."""
        query = select(recordings.c.space_id).where(
            recordings.c.finalized_at.is_not(None), recordings.c.deleted_at.is_(None)
        )
        return list((await self.conn.execute(query)).scalars())

    async def over_before(self, space_ids: Sequence[str], cutoff: datetime) -> list[str]:
        """Of these spaces, those over (not live) since before `cutoff`, or gone altogether."""
        if not space_ids:
            return []
        live = select(spaces.c.id).where(
            among(spaces.c.id, list(space_ids)),
            (spaces.c.state == SpaceStatus.LIVE.value)
            | (spaces.c.ended_at.is_not(None) & (spaces.c.ended_at > cutoff)),
        )
        still = set((await self.conn.execute(live)).scalars())
        return [s for s in space_ids if s not in still]

    async def expired(self, cutoff: datetime) -> list[Recording]:
        """Finalized recordings older than `cutoff`, shown or removed by a moderator, that
        neither an open report on their space nor an open appeal of their removal holds."""
        query = select(recordings).where(
            recordings.c.deleted_at.is_(None) | recordings.c.removed_by.is_not(None),
            recordings.c.finalized_at.is_not(None),
            recordings.c.finalized_at < cutoff,
            ~_reported(),
            ~_removal_appealed(),
        )
        return await self._all(query, _recording)

    async def host_withdrawn(self, recording: Recording) -> bool:
        """Is the host who recorded it, or the space's host now, suspended or deactivated?"""
        query = select(accounts.c.id).where(
            accounts.c.state.in_([s.value for s in WITHDRAWN_STATES]),
            accounts.c.id.in_(
                select(spaces.c.host_id)
                .where(spaces.c.id == recording.space_id)
                .union(
                    select(recordings.c.host_id).where(recordings.c.space_id == recording.space_id)
                )
            ),
        )
        return (await self.conn.execute(query)).first() is not None

    async def events_of(self, space_id: str, types: Sequence[EventType]) -> list[Event]:
        """The space's events of these types, oldest first."""
        query = (
            select(space_events)
            .where(
                space_events.c.space_id == space_id,
                space_events.c.type.in_([t.value for t in types]),
            )
            .order_by(space_events.c.seq)
        )
        return await self._all(query, stored_event)

    async def handles(self, space_id: str) -> dict[str, str]:
        """Everyone who was ever in the space, by account id."""
        query = select(participants.c.account_id, participants.c.handle).where(
            participants.c.space_id == space_id
        )
        return {r.account_id: r.handle for r in await self.conn.execute(query)}

    # --- clips ---------------------------------------------------------------------------

    async def add_clip(self, clip: Clip) -> None:
        await insert_ignoring_duplicate(self.conn, clips, columns_of(clip))

    async def clip(self, clip_id: str) -> Clip | None:
        return await self._by_id(clips, clip_id, lambda row: record(Clip, row))
