"""Recording: the live HLS segments of a recorded space, kept durably as they finish.

The recorder consumes what live HLS already makes: each segment the space's segmenter stored
(told through `HlsService.on_segment`) is copied into the recording store, fsync'd with its
directory, and only then indexed in the database. A `kill -9` therefore loses the segment being
encoded (and any finished one still queued here: a fraction of a second), never one indexed.

At start-up, `recover` reconciles every unfinished recording with its files (but one another
node's lease says it is mixing, and so recording, right now): a segment on disk that the index
missed is probed and indexed, an index row without its file is dropped, and the temporary files
of writes a crash cut short are deleted; recordings whose space is over are then finalized.
Final recordings are looked through after the node is up (`_tidy`: a start-up must not grow with
the archive, 3.2 s for 200 hour-long recordings when it read every index): a file the index does
not name (the node died before indexing it while another node made the recording final) and
cut-short writes are deleted, since nothing could ever serve them. A space that ends while
mixed here has its recording made final as soon as its last segments are kept (`program_ended`),
and so does one that ends while nobody's media is connected, on a node no other node or worker
shares spaces with (HlsService.space_ended); the node's sweep finalizes any other whose space
ended FINALIZE_AFTER ago (not while a segment of theirs waits here: a slow disk may hold the last
ones longer), and applies the retention rule.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections import Counter
from dataclasses import KW_ONLY, dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from parley.core.recordings import Deletion, RecordedSegment, Timeline
from parley.media.playlist import SegmentEntry, segment_sequence
from parley.media.recording_store import DurableSegmentStore
from parley.media.segment_store import SegmentStore
from parley.media.vod import segment_seconds
from parley.services.background import BackgroundWork, cancel_and_wait
from parley.services.common import Clock
from parley.store.db import Database
from parley.store.homes import HomeStore
from parley.store.recordings import RecordingStore
from parley.store.spaces import SpaceStore
from parley.store.transcripts import TranscriptStore

log = logging.getLogger(__name__)

# A space just ended may still have its last segment on the way (its segmenter flushes when
# the mixer stops): the recording is finalized this long after the end.
FINALIZE_AFTER = timedelta(seconds=5)
# A temporary file this old at start-up is a write a crash cut short, not one another node
# sharing the directory is making (a segment takes milliseconds to write).
UNFINISHED_WRITE_AGE = timedelta(minutes=1)
# How often the sweep looks for recordings past retention (on the node's clock).
RETENTION_CHECK = timedelta(minutes=1)
# Segments queued for the disk before the oldest is dropped (a disk that slow loses audio
# rather than memory): ten minutes of 2 s segments over all recorded spaces.
QUEUE_SEGMENTS = 300


@dataclass(eq=False)
class Recorder:
    db: Database
    live: SegmentStore
    store: DurableSegmentStore
    _: KW_ONLY
    retention_days: float
    clock: Clock
    # This node's id, as it holds the leases of the spaces it mixes (store/homes.py).
    node_id: str
    _queue: asyncio.Queue[tuple[str, SegmentEntry]] = field(
        default_factory=lambda: asyncio.Queue(QUEUE_SEGMENTS), init=False
    )
    _worker: asyncio.Task[None] | None = field(default=None, init=False)
    _tidying: asyncio.Task[None] | None = field(default=None, init=False)
    _retention_checked: datetime | None = field(default=None, init=False)
    # Segments queued and not yet kept, per space: its recording is not final before they are.
    _pending: Counter[str] = field(default_factory=Counter, init=False)
    # Spaces that ended while mixed here, their last segments queued: each recording is made
    # final once those are kept, not FINALIZE_AFTER later by a sweep.
    _ended: set[str] = field(default_factory=set, init=False)
    _finalizing: BackgroundWork = field(
        default_factory=lambda: BackgroundWork(log, "recorder: making a recording final"),
        init=False,
    )
    segments_recorded: int = field(default=0, init=False)
    segments_lost: int = field(default=0, init=False)

    @property
    def queued(self) -> int:
        """Segments stored by live HLS and not yet kept: waiting, or on their way to the disk."""
        return sum(self._pending.values())

    async def start(self) -> None:
        final = await self.recover()
        self._worker = asyncio.create_task(self._work(), name="recorder")
        # Not on the way to serving: a start-up would otherwise grow with the archive.
        self._tidying = asyncio.create_task(self._tidy(final), name="recorder-tidy")

    async def stop(self) -> None:
        """Keep what is queued (the last segments of spaces whose media just stopped)."""
        if self._tidying is not None:
            await cancel_and_wait(self._tidying)
        if self._worker is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(10):
                    await self._queue.join()
            await cancel_and_wait(self._worker)
        self._finalizing.cancel()  # not done yet: a sweep (any node's) makes those final

    # --- capture ----------------------------------------------------------------------------

    def segment_stored(self, space_id: str, entry: SegmentEntry) -> None:
        """Live HLS stored a segment of the space (on the event loop): keep it if recorded."""
        try:
            self._queue.put_nowait((space_id, entry))
        except asyncio.QueueFull:
            self.segments_lost += 1
            log.error("recorder: queue full, segment %s of %s lost", entry.name, space_id)
            return
        self._pending[space_id] += 1

    async def _work(self) -> None:
        while True:
            space_id, entry = await self._queue.get()
            try:
                await self._keep(space_id, entry)
            except Exception:
                self.segments_lost += 1
                log.exception("recorder: could not keep %s of %s", entry.name, space_id)
            finally:
                self._pending[space_id] -= 1
                if not self._pending[space_id]:
                    del self._pending[space_id]
                    self._finalize_if_kept(space_id)
                self._queue.task_done()

    def program_ended(self, space_id: str) -> None:
        """The space ended, and live HLS stored its last segment (so it is queued here
        already: both happen on the event loop)."""
        self._ended.add(space_id)
        self._finalize_if_kept(space_id)

    def _finalize_if_kept(self, space_id: str) -> None:
        if space_id in self._ended and space_id not in self._pending:
            self._ended.discard(space_id)
            self._finalizing.spawn(self._finalize_ended(space_id))

    async def _finalize_ended(self, space_id: str) -> None:
        async with self.db.read() as conn:
            recording = await RecordingStore(conn).get(space_id)
        if recording is None or not recording.open:
            return  # not recorded (most spaces), or deleted or final already
        async with self.db.write() as conn:
            store = RecordingStore(conn)
            if await store.over_before([space_id], self.clock()):
                await store.finalize(space_id, self.clock())

    async def _keep(self, space_id: str, entry: SegmentEntry) -> None:
        async with self.db.read() as conn:
            space = await SpaceStore(conn).get(space_id)
            recording = await RecordingStore(conn).get(space_id)
        if space is None or not space.recording:
            return
        if recording is not None and (recording.deleted_at is not None or recording.finalized):
            # Deleted while live, or removed while live (which ends it there) and restored on
            # appeal since: nothing comes after its end.
            return
        data = await asyncio.to_thread(self.live.read, space_id, entry.name)
        if data is None:
            raise FileNotFoundError(f"{entry.name} left live HLS before it was recorded")
        await asyncio.to_thread(self.store.write, space_id, entry.name, data)
        segment = RecordedSegment(
            space_id, entry.sequence, entry.started_at, entry.duration, len(data),
            entry.discontinuity,
        )  # fmt: skip
        async with self.db.write() as conn:
            store = RecordingStore(conn)
            await store.begin(space_id, space.host_id, self.clock())
            recording = await store.add_while_open(segment)
        if recording is not None and recording.open:
            self.segments_recorded += 1
            return
        # Closed since the check above, while the segment was on its way to the disk (deleted
        # by its host, removed, or made final by another node's sweep): nothing may follow.
        await asyncio.to_thread(self.store.delete, space_id, entry.name)
        if recording is not None and recording.deleted_at is None:
            self.segments_lost += 1  # the replay ends without it
            log.warning(
                "recorder: %s of %s came after its recording was final", entry.name, space_id
            )

    # --- after a crash, and in the sweep ----------------------------------------------------

    async def recover(self) -> list[str]:
        """Index what an earlier run wrote but did not index, and finalize recordings whose
        space is over. Returns the final recordings on disk, which `_tidy` looks through."""
        on_disk = await asyncio.to_thread(self.store.streams)
        async with self.db.read() as conn:
            store = RecordingStore(conn)
            open_ones = await store.open_ones()
            final = set(await store.final_ones())
            unfinished = [s for s in dict.fromkeys([*open_ones, *on_disk]) if s not in final]
            # Being recorded by the node that mixes it: its files are that node's to index
            # (one may be on its way), or on that node's disk if the nodes do not share one.
            elsewhere = await HomeStore(conn).held_elsewhere(unfinished, self.node_id, self.clock())
        for space_id in unfinished:
            if space_id in elsewhere:
                continue
            try:
                await self._reconcile(space_id)
            except Exception:
                log.exception("recorder: could not recover the recording of %s", space_id)
        await self.finalize_over(self.clock())
        return [space_id for space_id in on_disk if space_id in final]

    async def _tidy(self, final: list[str]) -> None:
        for space_id in final:
            try:
                await self._drop_unfinished(space_id)
                await self._drop_unindexed(space_id)
            except Exception:
                log.exception("recorder: could not tidy the recording of %s", space_id)

    async def _drop_unfinished(self, space_id: str) -> None:
        cutoff = self.clock() - UNFINISHED_WRITE_AGE
        dropped = await asyncio.to_thread(self.store.drop_unfinished, space_id, cutoff)
        if dropped:
            log.warning("recorder: %s had %d writes a crash cut short", space_id, dropped)

    async def _reconcile(self, space_id: str) -> None:
        async with self.db.read() as conn:
            space = await SpaceStore(conn).get(space_id)
            recording = await RecordingStore(conn).get(space_id)
        await self._drop_unfinished(space_id)
        if recording is not None and recording.removed_by is not None:
            return  # hidden, kept as it is for an appeal: no segment comes after its removal
        if space is None or (recording is not None and recording.deleted_at is not None):
            await asyncio.to_thread(self.store.delete, space_id)  # nothing may serve it
            return
        if recording is not None and recording.finalized:
            await self._drop_unindexed(space_id)  # made final since `recover` asked
            return
        async with self.db.read() as conn:
            indexed = await RecordingStore(conn).segments(space_id)
        names = await asyncio.to_thread(self.store.names, space_id)
        files = {n: s for n in names if (s := segment_sequence(n)) is not None}
        known = {s.sequence for s in indexed}
        missing = [s for s in indexed if s.sequence not in files.values()]
        found = sorted((s, n) for n, s in files.items() if s not in known)
        timeline = [s for s in indexed if s not in missing]
        added: list[RecordedSegment] = []
        for sequence, name in found:
            segment = await asyncio.to_thread(self._probe, space_id, sequence, name, timeline)
            if segment is not None:
                added.append(segment)
                timeline = Timeline([*timeline, segment]).segments
        async with self.db.write() as conn:
            store = RecordingStore(conn)
            await store.begin(space_id, space.host_id, self.clock())
            await store.drop_segments(space_id, [s.sequence for s in missing])
            for segment in added:
                await store.add_segment(segment)
        if added or missing:
            log.warning(
                "recorder: %s recovered %d segments from disk, %d indexed ones were missing",
                space_id, len(added), len(missing),
            )  # fmt: skip

    async def _drop_unindexed(self, space_id: str) -> None:
        """Delete a final recording's segment files that its index does not name: written and
        not indexed when the node died, while another node's sweep made the recording final.
        Nothing could ever serve them. Every start-up asks this of every recording kept, so the
        index (an hour is 1,800 rows) is read only when there are more files than rows (a
        missing file and a stray one together go unnoticed: a disk that loses files has worse
        to tell)."""
        names = await asyncio.to_thread(self.store.names, space_id)
        files = {s: n for n in names if (s := segment_sequence(n)) is not None}
        async with self.db.read() as conn:
            store = RecordingStore(conn)
            if len(files) <= await store.segment_count(space_id):
                return
            indexed = await store.sequences(space_id)
        stray = [name for sequence, name in files.items() if sequence not in indexed]
        for name in stray:
            await asyncio.to_thread(self.store.delete, space_id, name)
        log.warning("recorder: %s had %d files after its end", space_id, len(stray))

    def _probe(
        self, space_id: str, sequence: int, name: str, before: list[RecordedSegment]
    ) -> RecordedSegment | None:
        data = self.store.read(space_id, name)
        try:
            duration = segment_seconds(data) if data else 0.0
        except Exception:
            duration = 0.0
        if data is None or duration <= 0:
            self.store.delete(space_id, name)  # not a whole segment: never indexed, never served
            return None
        previous = max(
            (s for s in before if s.sequence < sequence), key=lambda s: s.sequence, default=None
        )
        if previous is not None and previous.sequence == sequence - 1:
            started = previous.ended_at
        else:
            path = self.store.root / space_id / name
            started = datetime.fromtimestamp(os.path.getmtime(path), self.clock().tzinfo)
            started -= timedelta(seconds=duration)
        return RecordedSegment(space_id, sequence, started, duration, len(data), False)

    async def sweep(self) -> None:
        now = self.clock()
        await self.finalize_over(now - FINALIZE_AFTER)
        if self._retention_checked is None or now - self._retention_checked >= RETENTION_CHECK:
            self._retention_checked = now
            await self.apply_retention(now)

    async def finalize_over(self, cutoff: datetime) -> None:
        """Recordings whose space is over (since before `cutoff`) are final: ENDLIST."""

        async def over(conn: AsyncConnection) -> list[str]:
            store = RecordingStore(conn)
            return await store.over_before(await store.open_ones(), cutoff)

        def settled(found: list[str]) -> list[str]:
            # A segment still on its way would come after ENDLIST and be left out: next sweep.
            # (Asked here on the event loop, which alone changes `_pending`.)
            return [space_id for space_id in found if space_id not in self._pending]

        # Most sweeps find none: asked on a read, they leave the one writer alone.
        if not settled(await self.db.read_whole(over)):
            return
        async with self.db.write() as conn:
            for space_id in settled(await over(conn)):
                await RecordingStore(conn).finalize(space_id, self.clock())

    async def apply_retention(self, now: datetime) -> None:
        if not self.retention_days:
            return
        cutoff = now - timedelta(days=self.retention_days)
        async with self.db.read() as conn:
            expired = await RecordingStore(conn).expired(cutoff)
            # Captions of a space never recorded are kept no longer than a recording would be.
            unrecorded = await TranscriptStore(conn).unrecorded_over(cutoff)
        for recording in expired:
            how, by = recording.expiry()
            await self.delete(recording.space_id, how, by=by)
            log.info("recorder: the recording of %s expired and was deleted", recording.space_id)
        if unrecorded:
            async with self.db.write() as conn:
                for space_id in unrecorded:
                    await TranscriptStore(conn).drop(space_id)

    async def delete(self, space_id: str, how: Deletion, *, by: str | None) -> None:
        """The row says who deleted it, and goes first: nothing serves a deleted recording, and
        a segment on its way here is either indexed before (its file goes below with the rest)
        or refused after (`_keep` removes its file). Files a crash left between the two go at
        the next start (`recover`)."""
        async with self.db.write() as conn:
            await RecordingStore(conn).mark_deleted(space_id, how, by, self.clock())
        await asyncio.to_thread(self.store.delete, space_id)
