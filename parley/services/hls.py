"""Live HLS of each space whose mixer runs on this node: a segmenter per mixer, a sliding playlist
per space, and the files served to whoever may listen.

A space's stream outlives its mixer: when the last peer on this node leaves, the mixer stops and
the playlist keeps its segments; when someone comes back, numbering goes on where it was, the
first new segment marked as a discontinuity. When the space ends, the playlist gets
EXT-X-ENDLIST, and the files go a little later (players still fetching the last segments).
Those later steps run in the node's sweep, on the node's clock: no task waits per stream, so a
space's media leaves nothing running behind it once its peers are gone.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import deque
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field
from datetime import datetime, timedelta

from parley.config import Settings
from parley.core.errors import BadRequest, NotFound
from parley.core.spaces.model import SpaceStatus
from parley.media.live_segmenter import LiveSegmenter, SegmenterStats
from parley.media.mixer import Mixer
from parley.media.playlist import (
    LIVE_PLAYLIST,
    PLAYLIST_TYPE,
    SEGMENT_TYPE,
    SegmentEntry,
    delivery_directives,
    live_playlist,
    part_key,
    segment_sequence,
)
from parley.media.segment_store import SegmentStore
from parley.services.accounts import Caller
from parley.services.background import BackgroundWork
from parley.services.common import Clock
from parley.services.hls_stream import LiveStream
from parley.services.sharing import SharingService
from parley.services.spaces import SpaceService

log = logging.getLogger(__name__)

# A live playlist changes every segment (every part): a cache may keep it one second at most.
PLAYLIST_CACHE = "public, max-age=1"
# The answer to a blocking reload (`_HLS_msn`, `_HLS_part`: a URL of its own) says what the
# playlist held once that part existed, which stays true. A cache keeps it for three target
# durations (by default 6 s), so that a player a little behind the live edge catches up through
# the cache instead of every such player reaching the node at once (a cache collapses requests
# for a new object, not for an expired one).
BLOCKING_CACHE = "public, max-age={seconds}"
# A segment's name is never reused for other bytes (numbering only goes up).
SEGMENT_CACHE = "public, max-age=31536000, immutable"
# A part is needed for a few seconds; its name could come back for other bytes in one case (its
# segment could not be stored, and the next took its number), so it is not `immutable`.
PART_CACHE = "public, max-age=60"
# How often a paused stream (no mixer here) checks whether its space ended meanwhile.
PAUSED_CHECK_SECONDS = 30.0


@dataclass(frozen=True)
class HlsFile:
    data: bytes
    media_type: str
    cache_control: str
    immutable: bool  # a segment (byte ranges make sense), not a playlist


@dataclass(eq=False)
class HlsService:
    spaces: SpaceService
    sharing: SharingService
    store: SegmentStore
    settings: Settings
    _: KW_ONLY
    clock: Clock
    streams: dict[str, LiveStream] = field(default_factory=dict, init=False)
    # Counters of segmenters that have stopped.
    _retired: SegmenterStats = field(default_factory=SegmenterStats, init=False)
    # Detached, storing their last segment.
    _stopping: set[LiveSegmenter] = field(default_factory=set, init=False)
    _background: BackgroundWork = field(
        default_factory=lambda: BackgroundWork(log, "HLS background work"), init=False
    )
    # Told of each segment once stored (on the event loop): the recorder keeps them.
    segment_listeners: list[Callable[[str, SegmentEntry], None]] = field(
        default_factory=list, init=False
    )
    # Told when a space ends while mixed here, once its last segment is stored (and told
    # above), or, on the only node, when it ends with nothing segmenting it: the recorder
    # makes its recording final as soon as it has kept them.
    ended_listeners: list[Callable[[str], None]] = field(default_factory=list, init=False)
    held: int = field(default=0, init=False)  # requests held now (blocking reloads, hints)
    held_total: int = field(default=0, init=False)

    async def start(self) -> None:
        """Streams left by a previous run of this node are dead: nobody can resume them."""
        for stream in await asyncio.to_thread(self.store.streams):
            await asyncio.to_thread(self.store.delete, stream)

    async def stop(self) -> None:
        for stream in list(self.streams.values()):
            self._detach(stream)
        for segmenter in list(self._stopping):
            await self._stop(segmenter)

    # --- the mixer's life, told by the media service -----------------------------------------

    def mixer_started(self, space_id: str, mixer: Mixer) -> None:
        """Segment this mixer's program from now on (a stream goes on if it was paused)."""
        stream = self.streams.get(space_id)
        if stream is None:
            window: deque[SegmentEntry] = deque(maxlen=self.settings.hls_playlist_segments)
            stream = self.streams[space_id] = LiveStream(space_id, window)
            # Numbers start at the clock's seconds, so that a stream started again after the
            # node restarted never reuses a name a cache holds as immutable.
            stream.numbers.next = int(self.clock().timestamp())
        if stream.ended or stream.mixer is mixer:
            return
        replaced = self._detach(stream)
        if replaced is not None:
            # A mixer still stopping while its room was replaced already: it stores its last
            # segment in the background.
            self._background.spawn(self._stop(replaced))
        segmenter = LiveSegmenter(
            stream=space_id,
            store=self.store,
            segment_seconds=self.settings.hls_segment_seconds,
            on_segment=lambda entry: self._stored(stream, entry),
            clock=self.clock,
            numbers=stream.numbers,
            discontinuity=bool(stream.window),
            # Files stay for a whole playlist's length after leaving it (RFC 8216, 6.2.2).
            keep=2 * self.settings.hls_playlist_segments,
            part_seconds=self.settings.hls_part_seconds,
            on_part=stream.add_part,
        )
        stream.part_target = segmenter.part_target
        stream.parts_per_segment = segmenter.parts_per_segment
        segmenter.start()
        mixer.add_program_sink(segmenter.offer)
        stream.segmenter, stream.mixer = segmenter, mixer

    def _stored(self, stream: LiveStream, entry: SegmentEntry) -> None:
        stream.add(entry)
        for listener in self.segment_listeners:
            try:
                listener(stream.space_id, entry)
            except Exception:
                log.exception("hls %s: a segment listener failed", stream.space_id)

    def _tell_ended(self, space_id: str) -> None:
        for listener in self.ended_listeners:
            try:
                listener(space_id)
            except Exception:
                log.exception("hls %s: an end listener failed", space_id)

    def space_ended(self, space_id: str) -> None:
        """A decision of this node's ended the space. A stream mixed here ends with its mixer
        (`mixer_stopped`); a paused one ends now, not at its next check."""
        stream = self.streams.get(space_id)
        if stream is not None:
            if stream.mixer is not None:
                return
            self._finish(stream)
        self._tell_if_last(space_id)

    def segmenting(self, space_id: str) -> bool:
        """A mixer here feeds the space's stream, or a stopped one's last segment is on its way."""
        stream = self.streams.get(space_id)
        mixed = stream is not None and stream.mixer is not None
        return mixed or any(segmenter.stream == space_id for segmenter in self._stopping)

    def _tell_if_last(self, space_id: str) -> None:
        """The space is over. On the only node, with nothing here segmenting it, its last
        segment is made: the recording hears so now, not from a sweep FINALIZE_AFTER later.
        (With an in-process bus no other node or worker can be mixing the space.)"""
        only_node = self.settings.redis_url is None
        if only_node and not self.segmenting(space_id):
            self._tell_ended(space_id)

    async def mixer_stopped(self, space_id: str, mixer: Mixer, *, ended: bool) -> None:
        stream = self.streams.get(space_id)
        if stream is None:
            return
        if stream.mixer is mixer:
            await self._stop(self._detach(stream))
            if ended:
                self._tell_ended(space_id)
        if ended:
            self._finish(stream)
        elif stream.mixer is None:
            stream.checked_at = self.clock()
            # Its end may have come while this mixer was stopping, and been left to it.
            if not await self._live(space_id):
                self._finish(stream)
                self._tell_if_last(space_id)

    async def sweep(self) -> None:
        """Ends the streams of spaces that ended while nobody here was connected to their media,
        and deletes the files of ended streams once players have had time to fetch the end."""
        now = self.clock()
        keep = timedelta(seconds=self.settings.hls_ended_keep_seconds)
        every = timedelta(seconds=PAUSED_CHECK_SECONDS)
        for stream in list(self.streams.values()):
            if stream.ended_at is not None and now - stream.ended_at >= keep:
                await asyncio.to_thread(self.store.delete, stream.space_id)
                if self.streams.get(stream.space_id) is stream:
                    del self.streams[stream.space_id]
            elif stream.mixer is None and not stream.ended and self._due(stream, now, every):
                stream.checked_at = now
                if not await self._live(stream.space_id):
                    self._finish(stream)

    @staticmethod
    def _due(stream: LiveStream, now: datetime, every: timedelta) -> bool:
        return stream.checked_at is None or now - stream.checked_at >= every

    async def _live(self, space_id: str) -> bool:
        try:
            return (await self.spaces.stage(space_id)).live
        except NotFound:
            return False

    def _detach(self, stream: LiveStream) -> LiveSegmenter | None:
        segmenter, mixer = stream.segmenter, stream.mixer
        stream.segmenter = stream.mixer = None
        if segmenter is not None and mixer is not None:
            mixer.remove_program_sink(segmenter.offer)
            self._stopping.add(segmenter)
        return segmenter

    async def _stop(self, segmenter: LiveSegmenter | None) -> None:
        """Let it store its last segment; its counters join the node's."""
        if segmenter is None:
            return
        await segmenter.stop()
        if segmenter in self._stopping:
            self._stopping.discard(segmenter)
            self._retired.add(segmenter.stats)

    def _finish(self, stream: LiveStream) -> None:
        """The space is over: the playlist says so (blocked reloads return), and the files go
        after a while; the space is read again before being shown (it may be over for good)."""
        if stream.ended_at is None:
            stream.finish(self.clock())
            self.sharing.forget_spaces({stream.space_id})

    # --- serving -----------------------------------------------------------------------------

    async def file(
        self,
        caller: Caller | None,
        space_id: str,
        name: str,
        *,
        msn: str | None = None,
        part: str | None = None,
    ) -> HlsFile:
        """A playlist, part or segment of the space, for anyone while the space may be shown
        publicly (its share page too: not taken down by moderation). Signed out is allowed:
        every space is public, and a browser's own HLS (Safari) cannot send a token. Someone
        signed in is also refused where they may not follow the space (removed from it,
        blocked by its host); a cache in front serves everyone alike, so that is a courtesy,
        not a wall. `msn`, `part`: a blocking reload's _HLS_msn and _HLS_part, as sent."""
        try:
            directives = delivery_directives(msn, part)
        except ValueError as exc:
            raise BadRequest("hls_bad_directive", str(exc)) from exc
        stream = self.streams.get(space_id)
        # Remembered while this node streams the space (the load is there; its end reaches the
        # memory as the mixer stops); read as it is otherwise, so its state says which 404.
        remembered = stream is not None and not stream.ended
        space = await self.sharing.check(space_id, remembered=remembered)
        if caller is not None:
            await self.spaces.follower(space_id, caller.account.id)
        live = space.state is SpaceStatus.LIVE
        if stream is None:
            if live:
                raise NotFound("hls_not_started", "The space's audio has not started yet")
            raise NotFound("space_not_live", "The space is not live")
        if not live and stream.mixer is None:
            self._finish(stream)  # it ended while nobody was connected to it here
        if name == LIVE_PLAYLIST:
            if directives is not None and stream.part_target:
                await self._block(stream, *directives)
            text = live_playlist(
                list(stream.window),
                segment_seconds=self.settings.hls_segment_seconds,
                ended=stream.ended,
                discontinuity_sequence=stream.discontinuity_sequence,
                low_latency=stream.low_latency(),
            )
            cache = PLAYLIST_CACHE
            if directives is not None and stream.part_target:
                cache = BLOCKING_CACHE.format(seconds=round(self._hold_seconds()))
            return HlsFile(text.encode(), PLAYLIST_TYPE, cache, immutable=False)
        if (key := part_key(name)) is not None:
            return await self._part(stream, *key)
        data = None
        if segment_sequence(name) is not None:
            data = await asyncio.to_thread(self.store.read, space_id, name)
        if data is None:
            raise NotFound("hls_file_not_found", "No such playlist or segment (or no longer)")
        return HlsFile(data, SEGMENT_TYPE, SEGMENT_CACHE, immutable=True)

    def _hold_seconds(self) -> float:
        # RFC 8216bis 6.2.5.2: a blocked reload is held three target durations at most.
        return 3 * math.ceil(self.settings.hls_segment_seconds - 1e-9)

    async def _block(self, stream: LiveStream, msn: int, part: int | None) -> None:
        """Hold a reload until the playlist holds what it asks for, or a while has passed; a
        request too far ahead of the live edge is refused (400), as the spec says."""
        edge = stream.edge()
        if edge is not None:
            last_msn, last_part = edge
            if msn > last_msn + 2:
                raise BadRequest("hls_msn_too_far", "_HLS_msn is more than two segments ahead")
            if part is not None:
                per_segment = math.ceil(self.settings.hls_segment_seconds / stream.part_target)
                ahead = (msn - last_msn) * per_segment + part - last_part
                if ahead > math.ceil(3 / stream.part_target):  # the Advance Part Limit
                    raise BadRequest("hls_part_too_far", "_HLS_part is too far ahead")
        await self._hold(stream, msn, part)

    async def _hold(self, stream: LiveStream, msn: int, part: int | None) -> None:
        self.held += 1
        self.held_total += 1
        try:
            await stream.until(msn, part, self._hold_seconds())
        finally:
            self.held -= 1

    async def _part(self, stream: LiveStream, sequence: int, index: int) -> HlsFile:
        """A part; the next one to come (the playlist's preload hint) is waited for."""
        hinted = stream.next_part()
        if hinted is not None and (hinted.sequence, hinted.index) == (sequence, index):
            await self._hold(stream, sequence, index)
        found = stream.parts.get((sequence, index))
        if found is None:
            raise NotFound("hls_file_not_found", "No such part (or no longer)")
        return HlsFile(found[1], SEGMENT_TYPE, PART_CACHE, immutable=True)

    # --- figures -----------------------------------------------------------------------------

    def stats(self) -> SegmenterStats:
        """Counters of every segmenter this node ran, stopped ones included."""
        total = SegmenterStats()
        total.add(self._retired)
        running = [s.segmenter for s in self.streams.values() if s.segmenter is not None]
        for segmenter in (*running, *self._stopping):
            total.add(segmenter.stats)
        return total
