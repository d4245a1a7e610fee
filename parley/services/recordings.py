"""Replay: a space's recording as the API shows it (what it is, its VOD playlist, segments and a
single-file download, who spoke when), and what its host may do to it (moderators:
recording_moderation.py).

Who may hear a recording: anyone, signed in or not, as a public space's program was; a signed-in
account removed from the space or blocked by its host may not. A suspended host's recordings are
hidden while the suspension lasts (404 `recording_hidden`), a deleted one is gone (410
`recording_deleted`), whoever deleted it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass
from datetime import datetime

from parley.core.errors import Conflict, Forbidden, Gone, NotFound
from parley.core.recordings import (
    Deletion,
    Recording,
    Span,
    SpeakerTurn,
    Timeline,
    speaker_turns,
    trim_keeps,
)
from parley.core.spaces.events import ActiveSpeakers, EventType, Reacted
from parley.core.spaces.model import Space, SpaceStatus
from parley.media.playlist import PLAYLIST_TYPE, SEGMENT_TYPE, segment_name, segment_sequence
from parley.media.vod import DOWNLOAD_TYPE, REPLAY_PLAYLIST, VodEntry, remux_m4a, vod_playlist
from parley.services.accounts import Caller
from parley.services.common import Clock
from parley.services.hls import HlsFile
from parley.services.recorder import Recorder
from parley.services.spaces import SpaceService
from parley.store.db import Database
from parley.store.recordings import RecordingStore
from parley.store.spaces import SpaceStore
from parley.store.transcripts import TranscriptStore

# Shared caches may keep what they got a short while only: a deletion, or a host's suspension,
# reaches every cache within five minutes.
SEGMENT_CACHE = "public, max-age=300"
PLAYLIST_CACHE = "public, max-age=5"
DOWNLOAD_NAME = "recording.m4a"


@dataclass(frozen=True)
class RecordingInfo:
    space_id: str
    title: str
    finalized: bool
    started_at: datetime | None
    ended_at: datetime | None
    duration: float  # seconds
    size: int  # bytes of its segments
    segments: int


@dataclass(frozen=True)
class ReactionMark:
    at: float  # seconds into the replay
    account_id: str
    handle: str
    emoji: str


@dataclass(frozen=True)
class NamedTurn:
    turn: SpeakerTurn
    handle: str


@dataclass(frozen=True)
class ReplayTimeline:
    duration: float
    turns: tuple[NamedTurn, ...]
    reactions: tuple[ReactionMark, ...]


@dataclass(frozen=True)
class Readable:
    """A recording someone may hear, with its space and its segments in order."""

    space: Space
    recording: Recording
    timeline: Timeline


class RecordingDeleted(Gone):
    """A recording deleted for good; `deletion` says how (by its host, a moderator, retention)."""

    def __init__(self, deletion: str | None) -> None:
        super().__init__("recording_deleted", "This recording was deleted")
        self.deletion = deletion


def vod_file(found: Readable, name_of: Callable[[int], str]) -> HlsFile:
    """A VOD playlist of the recording's segments in order, each under `name_of(sequence)`:
    the replay's audio, or the subtitles rendition beside it (one cue file per segment)."""
    timeline = found.timeline
    entries = [
        VodEntry(name_of(s.sequence), s.duration, mark)
        for s, mark in zip(timeline.segments, timeline.discontinuities(), strict=True)
    ]
    text = vod_playlist(entries, ended=found.recording.finalized)
    return HlsFile(text.encode(), PLAYLIST_TYPE, PLAYLIST_CACHE, immutable=False)


@dataclass(eq=False)
class RecordingService:
    db: Database
    spaces: SpaceService
    recorder: Recorder
    _: KW_ONLY
    clock: Clock

    async def readable(self, caller: Caller | None, space_id: str) -> Readable:
        async with self.db.read() as conn:
            space = await SpaceStore(conn).get(space_id)
            if space is None:
                raise NotFound("space_not_found", "No such space")
            store = RecordingStore(conn)
            recording = await store.get(space_id)
            if recording is None:
                raise NotFound("recording_not_found", "This space was not recorded")
            if recording.deleted_at is not None:
                raise RecordingDeleted(recording.deletion)
            if await store.host_withdrawn(recording):
                raise NotFound("recording_hidden", "This recording is not available")
            segments = await store.segments(space_id)
        if caller is not None:
            await self.spaces.follower(space_id, caller.account.id)
        return Readable(space, recording, Timeline(segments))

    async def info(self, caller: Caller | None, space_id: str) -> RecordingInfo:
        return describe(await self.readable(caller, space_id))

    async def file(self, caller: Caller | None, space_id: str, name: str) -> HlsFile:
        """The VOD playlist, or one of its segments."""
        found = await self.readable(caller, space_id)
        timeline = found.timeline
        if name == REPLAY_PLAYLIST:
            return vod_file(found, segment_name)
        sequence = segment_sequence(name)
        data = None
        if sequence is not None and any(s.sequence == sequence for s in timeline.segments):
            data = await asyncio.to_thread(self.recorder.store.read, space_id, name)
        if data is None:
            raise NotFound("recording_file_not_found", "No such playlist or segment")
        return HlsFile(data, SEGMENT_TYPE, SEGMENT_CACHE, immutable=True)

    async def download(self, caller: Caller | None, space_id: str) -> HlsFile:
        """The whole recording as one M4A file (remuxed, not re-encoded)."""
        found = await self.readable(caller, space_id)
        if not found.timeline:
            raise Conflict("recording_empty", "Nothing has been recorded yet")
        data = await self.cut(found, 0.0, found.timeline.duration)
        return HlsFile(data, DOWNLOAD_TYPE, SEGMENT_CACHE, immutable=True)

    async def cut(self, found: Readable, start: float, end: float) -> bytes:
        """The audio between two moments of the replay, as M4A, cut between AAC frames."""
        store = self.recorder.store
        covering = found.timeline.covering(Span(start, end - start))

        def work() -> bytes:
            parts = []
            for segment, at in covering:
                data = store.read(found.space.id, segment_name(segment.sequence))
                if data is not None:
                    parts.append((data, at))
            return remux_m4a(parts, start, end)

        return await asyncio.to_thread(work)

    async def timeline(self, caller: Caller | None, space_id: str) -> ReplayTimeline:
        """Who was speaking when, and the reactions, on the replay's timeline."""
        found = await self.readable(caller, space_id)
        async with self.db.read() as conn:
            store = RecordingStore(conn)
            events = await store.events_of(
                space_id, [EventType.ACTIVE_SPEAKERS, EventType.REACTION]
            )
            handles = await store.handles(space_id)
        timeline = found.timeline
        reports = [(e.at, e.data.account_ids) for e in events if isinstance(e.data, ActiveSpeakers)]
        turns = tuple(
            NamedTurn(turn, handles.get(turn.account_id, ""))
            for turn in speaker_turns(reports, timeline)
        )
        reactions = []
        for event in events:
            if not isinstance(event.data, Reacted):
                continue
            position = timeline.at_moment(event.at)
            if position is not None:
                who = event.data.account_id
                reactions.append(
                    ReactionMark(position, who, handles.get(who, ""), event.data.emoji)
                )
        return ReplayTimeline(timeline.duration, turns, tuple(reactions))

    # --- the host's and moderators' hands ---------------------------------------------------

    def _check_host(self, caller: Caller, found: Readable) -> None:
        if caller.account.id not in (found.space.host_id, found.recording.host_id):
            raise Forbidden("recording_host_only", "Only the space's host can do this")

    async def trim(self, caller: Caller, space_id: str, seconds: float) -> RecordingInfo:
        """Drop the recording's start, up to the segment boundary at or before `seconds`."""
        found = await self.readable(caller, space_id)
        self._check_host(caller, found)
        dropped = trim_keeps(found.timeline, seconds)
        kept_from = found.timeline.segments[len(dropped)].started_at
        async with self.db.write() as conn:
            await RecordingStore(conn).drop_segments(space_id, [s.sequence for s in dropped])
            if found.space.started_at is not None:
                # The words of what was trimmed away go with it.
                said_by = (kept_from - found.space.started_at).total_seconds()
                await TranscriptStore(conn).drop(space_id, ending_by=said_by)
        for segment in dropped:
            await asyncio.to_thread(
                self.recorder.store.delete, space_id, segment_name(segment.sequence)
            )
        return await self.info(caller, space_id)

    async def delete(self, caller: Caller, space_id: str) -> None:
        found = await self.readable(caller, space_id)
        self._check_host(caller, found)
        if found.space.state is SpaceStatus.LIVE and found.space.recording:
            raise Conflict("recording_in_progress", "Stop recording before deleting it")
        await self.recorder.delete(space_id, Deletion.HOST, by=caller.account.id)


def describe(found: Readable) -> RecordingInfo:
    timeline = found.timeline
    return RecordingInfo(
        space_id=found.space.id,
        title=found.space.title,
        finalized=found.recording.finalized,
        started_at=timeline.started_at(),
        ended_at=timeline.ended_at(),
        duration=timeline.duration,
        size=timeline.size(),
        segments=len(timeline.segments),
    )
