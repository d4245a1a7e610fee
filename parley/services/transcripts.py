"""Transcripts beside recordings: a recorded space's final captions on the replay's timeline (as
lines, as WebVTT, and as the subtitles rendition of the replay's HLS), and what moderators read
of them (a reported space around the reported moment, a search).

Whoever may hear a recording may read its transcript, and only they: every file here goes
through `RecordingService.readable` (404 `recording_hidden` under the host's suspension, 410
`recording_deleted`). The transcript's lines themselves go with the recording's trim and
deletion (store/recordings.py, store/transcripts.py).
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from parley.core.captions import TranscriptLine, webvtt
from parley.core.errors import NotFound
from parley.core.moderation import ReportTarget, require_moderator
from parley.core.recordings import Timeline
from parley.core.transcripts import (
    REPORT_WINDOW_SECONDS,
    PlacedHit,
    PlacedLine,
    ReportTranscript,
    on_replay,
    overlapping,
)
from parley.media.playlist import PLAYLIST_TYPE, segment_name
from parley.media.vod import (
    MULTIVARIANT_PLAYLIST,
    SUBTITLES_PLAYLIST,
    SUBTITLES_TYPE,
    first_timestamp,
    multivariant_playlist,
    subtitles_name,
    subtitles_sequence,
)
from parley.services.accounts import Caller
from parley.services.common import Clock
from parley.services.hls import HlsFile
from parley.services.recordings import PLAYLIST_CACHE, Readable, RecordingService, vod_file
from parley.store.db import Database
from parley.store.moderation import ModerationStore
from parley.store.recordings import RecordingStore
from parley.store.spaces import SpaceStore
from parley.store.transcripts import TranscriptStore

TRANSCRIPT_FILE = "transcript.vtt"
# Without segments to measure (an empty recording), what the variant is said to need.
DEFAULT_BANDWIDTH = 64_000


def is_transcript_file(name: str) -> bool:
    """Is this name one of the recording's transcript files (not its audio)?"""
    return name in (TRANSCRIPT_FILE, MULTIVARIANT_PLAYLIST, SUBTITLES_PLAYLIST) or (
        subtitles_sequence(name) is not None
    )


class TranscriptService:
    def __init__(self, db: Database, recordings: RecordingService, *, clock: Clock) -> None:
        self.db = db
        self.recordings = recordings
        self.clock = clock

    async def _placed(self, found: Readable) -> list[TranscriptLine]:
        started = found.space.started_at
        if started is None:
            return []
        async with self.db.read() as conn:
            lines = await TranscriptStore(conn).lines(found.space.id)
        return on_replay(lines, started, found.timeline)

    async def replay(self, caller: Caller | None, space_id: str) -> list[TranscriptLine]:
        """The recording's transcript: its lines in seconds of the replay."""
        return await self._placed(await self.recordings.readable(caller, space_id))

    async def file(self, caller: Caller | None, space_id: str, name: str) -> HlsFile:
        """The transcript as one WebVTT file, or a piece of the subtitles rendition: the
        multivariant playlist, the subtitles playlist, or one of its segments."""
        found = await self.recordings.readable(caller, space_id)
        timeline = found.timeline
        if name == TRANSCRIPT_FILE:
            text = webvtt(await self._placed(found))
            return HlsFile(text.encode(), SUBTITLES_TYPE, PLAYLIST_CACHE, immutable=False)
        if name == MULTIVARIANT_PLAYLIST:
            bandwidth = DEFAULT_BANDWIDTH
            if timeline.duration > 0:
                bandwidth = round(timeline.size() * 8 / timeline.duration)
            text = multivariant_playlist(bandwidth=bandwidth)
            return HlsFile(text.encode(), PLAYLIST_TYPE, PLAYLIST_CACHE, immutable=False)
        if name == SUBTITLES_PLAYLIST:
            return vod_file(found, subtitles_name)
        return await self._subtitles_segment(found, name)

    async def _subtitles_segment(self, found: Readable, name: str) -> HlsFile:
        """The cues heard during one audio segment, mapped onto its MPEG-TS timestamps."""
        timeline = found.timeline
        sequence = subtitles_sequence(name)
        at = next((i for i, s in enumerate(timeline.segments) if s.sequence == sequence), None)
        data = None
        if at is not None:
            audio = segment_name(timeline.segments[at].sequence)
            data = await asyncio.to_thread(
                self.recordings.recorder.store.read, found.space.id, audio
            )
        if at is None or data is None:
            raise NotFound("recording_file_not_found", "No such playlist or segment")
        start, end = timeline.starts[at], timeline.starts[at] + timeline.segments[at].duration
        lines = overlapping(await self._placed(found), start, end)
        mpegts = await asyncio.to_thread(first_timestamp, data)
        text = webvtt(lines, timestamp_map=(mpegts, start))
        # Not immutable: a line may still come (a final caption lags its words) or go (a trim).
        return HlsFile(text.encode(), SUBTITLES_TYPE, PLAYLIST_CACHE, immutable=False)

    # --- for moderators ------------------------------------------------------------------------

    async def for_report(
        self, caller: Caller, report_id: str, seconds: float = REPORT_WINDOW_SECONDS
    ) -> ReportTranscript:
        """A report on a space: its transcript `seconds` either side of when it was reported,
        each line with its place in the recording when there is one to go to. Lines of a
        deleted recording are gone; a hidden one (its host suspended) is shown to moderators."""
        require_moderator(caller)
        async with self.db.read() as conn:
            report = await ModerationStore(conn).report(report_id)
            if report is None:
                raise NotFound("report_not_found", "No such report")
            if report.target_type != ReportTarget.SPACE:
                raise NotFound("report_not_on_space", "This report is not about a space")
            space = await SpaceStore(conn).get(report.target_id)
            if space is None:
                raise NotFound("space_not_found", "No such space")
            timeline = await self._timeline(RecordingStore(conn), space.id)
            at = None
            lines: list[TranscriptLine] = []
            if space.started_at is not None:
                at = (report.created_at - space.started_at).total_seconds()
                lines = await TranscriptStore(conn).lines(
                    space.id, after=at - seconds, before=at + seconds
                )
        return ReportTranscript(
            report_id=report.id,
            space_id=space.id,
            space_title=space.title,
            at=at,
            recorded=bool(timeline),
            lines=tuple(self._place(space.started_at, line, timeline) for line in lines),
        )

    async def search(self, caller: Caller, words: str, limit: int) -> list[PlacedHit]:
        """Lines of recorded (and live) spaces' transcripts that contain `words`, each with
        its place in the recording when it was recorded."""
        require_moderator(caller)
        async with self.db.read() as conn:
            hits = await TranscriptStore(conn).search(words, limit=limit)
            places: dict[str, tuple[datetime | None, Timeline | None]] = {}
            for space_id in dict.fromkeys(hit.line.space_id for hit in hits):
                space = await SpaceStore(conn).get(space_id)
                timeline = await self._timeline(RecordingStore(conn), space_id)
                places[space_id] = (space.started_at if space else None, timeline)
        placed = []
        for hit in hits:
            started, timeline = places[hit.line.space_id]
            placed.append(PlacedHit(self._place(started, hit.line, timeline), hit.space_title))
        return placed

    @staticmethod
    async def _timeline(store: RecordingStore, space_id: str) -> Timeline | None:
        """The recording's timeline, if there is a recording that is not deleted."""
        recording = await store.get(space_id)
        if recording is None or recording.deleted_at is not None:
            return None
        return Timeline(await store.segments(space_id))

    @staticmethod
    def _place(
        started: datetime | None, line: TranscriptLine, timeline: Timeline | None
    ) -> PlacedLine:
        if started is None or timeline is None or not timeline:
            return PlacedLine(line, None)
        # Placed as the replay's transcript places it: a line partly recorded links in too.
        placed = on_replay([line], started, timeline)
        return PlacedLine(line, placed[0].start if placed else None)
