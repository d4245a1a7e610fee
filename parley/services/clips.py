"""Clips: a short passage of a recording with a page and a download of its own. Anyone in a
recorded live space clips its last 30 s; anyone who may hear a replay clips up to 60 s of it.

A clip is a pointer into the recording (a segment, an offset, a length), cut on request from the
segments without re-encoding: it follows the recording's moderation and retention by itself
(hidden with it, gone with it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from parley.core.errors import Conflict, Forbidden, NotFound
from parley.core.recordings import Clip, clip_span
from parley.core.spaces.model import SpaceStatus
from parley.media.vod import DOWNLOAD_TYPE
from parley.services.accounts import Caller
from parley.services.common import Clock, new_id
from parley.services.hls import HlsFile
from parley.services.recordings import SEGMENT_CACHE, Readable, RecordingService
from parley.store.db import Database
from parley.store.recordings import RecordingStore


@dataclass(frozen=True)
class ClipView:
    id: str
    space_id: str
    title: str  # the space's
    by_handle: str
    start: float  # seconds into the replay, as it is now
    duration: float
    created_at: datetime


class ClipService:
    def __init__(self, db: Database, recordings: RecordingService, *, clock: Clock) -> None:
        self.db = db
        self.recordings = recordings
        self.clock = clock

    async def create(
        self, caller: Caller, space_id: str, *, start: float | None, duration: float
    ) -> ClipView:
        try:
            found = await self.recordings.readable(caller, space_id)
        except NotFound as refusal:
            if refusal.code != "recording_not_found":
                raise
            raise Conflict("space_not_recorded", "This space is not being recorded") from None
        live = found.space.state is SpaceStatus.LIVE
        if live and start is None:
            me = await self.recordings.spaces.participant(space_id, caller.account.id)
            if me is None or not me.present:
                raise Forbidden("not_in_space", "Join the space to clip what was just said")
        span = clip_span(found.timeline, live=live, start=start, duration=duration)
        sequence, offset = found.timeline.locate(span.start)
        clip = Clip(
            new_id(), space_id, caller.account.id, sequence, offset, span.duration, self.clock()
        )
        async with self.db.write() as conn:
            await RecordingStore(conn).add_clip(clip)
        return _view(clip, found, caller.account.handle)

    async def _found(self, caller: Caller | None, clip_id: str) -> tuple[Clip, Readable]:
        async with self.db.read() as conn:
            clip = await RecordingStore(conn).clip(clip_id)
        if clip is None:
            raise NotFound("clip_not_found", "No such clip")
        return clip, await self.recordings.readable(caller, clip.space_id)

    async def get(self, caller: Caller | None, clip_id: str) -> ClipView:
        clip, found = await self._found(caller, clip_id)
        async with self.db.read() as conn:
            handles = await RecordingStore(conn).handles(clip.space_id)
        return _view(clip, found, handles.get(clip.account_id, ""))

    async def audio(self, caller: Caller | None, clip_id: str) -> HlsFile:
        clip, found = await self._found(caller, clip_id)
        view = _view(clip, found, "")
        data = await self.recordings.cut(found, view.start, view.start + view.duration)
        if not data:
            raise NotFound("clip_gone", "The recording no longer holds this passage")
        return HlsFile(data, DOWNLOAD_TYPE, SEGMENT_CACHE, immutable=True)


def _view(clip: Clip, found: Readable, handle: str) -> ClipView:
    start = found.timeline.position_of(clip.start_sequence, clip.start_offset)
    if start is None:
        raise NotFound("clip_gone", "The recording no longer holds this passage")
    return ClipView(
        clip.id, clip.space_id, found.space.title, handle, start, clip.duration, clip.created_at
    )
