"""The per-space mixer: stage audio in, program and mix-minus out, on one steady clock.

Every tick (20 ms) it takes at most one tick of audio from each *audible* source, sums them,
encodes the program once for all listeners and hands each stage member the mix without their
own voice. It is also where mute, removal and suspension are enforced: audio of a source that is
not audible is thrown away as it arrives, whatever its client keeps sending (DESIGN.md, "Media").
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av import AudioFrame

from parley.media.audio import (
    SAMPLE_RATE,
    SILENCE_DBOV,
    Mix,
    Pcm,
    PcmConverter,
    PcmFrame,
    level_dbov,
    samples_per_tick,
)
from parley.media.jitter import SourceBuffer
from parley.media.mixer_stats import MixerStats
from parley.media.mixminus import MixMinusFeeds
from parley.media.phase import PhaseTuner
from parley.media.program import ProgramEncoder, ProgramFeed, ProgramTrack
from parley.media.speakers import ActiveSpeakers

log = logging.getLogger(__name__)

# Ticks of audio a source may have buffered. Three absorbs ordinary network jitter; more would
# only be delay (the server may add at most 20 ms).
BUFFER_TICKS = 3
# Tick lengths that are also whole Opus frames, so one tick is exactly one packet.
OPUS_FRAME_MS = (10, 20, 40, 60)
# How long a tick may wait for a frame due just after it, instead of leaving it a whole tick.
# 6 ms, not 2: with 400 listeners the speaker's frames reached the mixer several ms late often
# enough that a held tick caught only 8 of 43 at 2 ms, and 58 of 64 at 6 ms (bench/media.py:
# p50 11.5 -> 5.6 ms, p99 36 -> 24 ms); a frame that misses waits a whole tick, 20 ms.
GRACE_SECONDS = 0.006
VoiceSink = Callable[[Mapping[str, Pcm], Mapping[str, float], float], None]


@dataclass
class _Source:
    track: MediaStreamTrack
    buffer: SourceBuffer
    reader: asyncio.Task[None]


class Mixer:
    """One per live space. Decodes nothing itself: a speaker's track yields PcmFrame, decoded
    by the ingress (s16, 48 kHz, stereo, 960 samples = 20 ms); any other track av.AudioFrame.

    Sources are identified by account id. Nothing is audible until ``set_audible`` says so: the
    mixer fails closed, so a speaker whose mute has not reached it yet is not heard.
    """

    def __init__(
        self,
        *,
        on_active_speakers: Callable[[list[str]], None] | None = None,
        frame_ms: int = 20,
        grace: float = GRACE_SECONDS,
    ) -> None:
        if frame_ms not in OPUS_FRAME_MS:
            raise ValueError(f"frame_ms must be one of {OPUS_FRAME_MS} (an Opus frame duration)")
        self.frame_ms = frame_ms
        self._period = frame_ms / 1000
        self._grace = grace
        self._samples = samples_per_tick(frame_ms)
        self._arrived = asyncio.Event()  # set when a source's audio is buffered
        self._sources: dict[str, _Source] = {}
        self._audible: frozenset[str] = frozenset()
        self._speakers = ActiveSpeakers(on_active_speakers)
        self._phase = PhaseTuner(self._period)
        self._encoder = ProgramEncoder(frame_ms)
        self._feed = ProgramFeed()
        # Weak: aiortc's RTCRtpSender.stop() does not stop its track, so a track the edge
        # forgot to stop must not keep being fed (or keep the program being encoded) forever.
        self._listeners: weakref.WeakSet[ProgramTrack] = weakref.WeakSet()
        self._mix_minus = MixMinusFeeds(frame_ms)
        # Callables handed each tick's program PCM (the HLS segmenter); they must not block.
        self._program_sinks: list[Callable[[Pcm, int], None]] = []
        # Callables handed each tick's audible voices, one by one, with their levels (captions).
        self._voice_sinks: list[VoiceSink] = []
        self._clock: asyncio.Task[None] | None = None
        self._dying: set[asyncio.Task[None]] = set()  # cancelled readers not yet finished
        self._stopped = False
        # Drops counted by buffers that are gone, so the stats survive them.
        self._retired_drops = 0
        self.levels: dict[str, float] = {}  # dBov of each audible source, last tick
        self._stats = MixerStats()

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        if self._stopped:
            raise RuntimeError("a stopped mixer cannot be restarted")
        if self._clock is None:
            self._clock = asyncio.create_task(self._run(), name="mixer-clock")

    async def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        tasks: list[asyncio.Task[None]] = [s.reader for s in self._sources.values()]
        tasks += self._dying
        if self._clock is not None:
            tasks.append(self._clock)
        for task in tasks:
            task.cancel()
        # Wait for them, so that a stopped mixer leaves nothing running behind it.
        await asyncio.gather(*tasks, return_exceptions=True)
        self._retired_drops += sum(e.buffer.dropped_samples for e in self._sources.values())
        self._sources.clear()
        self._dying.clear()
        self._feed.close()
        for listener in list(self._listeners):
            listener.stop()
        self._mix_minus.stop()

    @property
    def stopped(self) -> bool:
        return self._stopped

    @property
    def stats(self) -> MixerStats:
        """The counters, with those kept by buffers and tracks gathered as of now."""
        stats = self._stats
        stats.listener_lag = self._feed.lagged
        stats.phase_moves = self._phase.moves
        stats.dropped_samples = self._retired_drops + sum(
            e.buffer.dropped_samples for e in self._sources.values()
        )
        stats.silence_repeats = self._encoder.skipped + self._mix_minus.silence_repeats
        stats.mix_minus_drops = self._mix_minus.dropped
        return stats

    # -- inputs --------------------------------------------------------------------------------

    def attach(self, source: str, track: MediaStreamTrack) -> None:
        """Read ``track`` as the voice of ``source``, replacing any track attached before."""
        if self._stopped:
            raise RuntimeError("mixer is stopped")
        self.detach(source)
        buffer = SourceBuffer(BUFFER_TICKS * self._samples)
        reader = asyncio.create_task(self._read(source, track, buffer), name=f"mixer-in-{source}")
        self._sources[source] = _Source(track, buffer, reader)

    def detach(self, source: str) -> None:
        entry = self._sources.pop(source, None)
        if entry is None:
            return
        entry.buffer.clear()
        self._retired_drops += entry.buffer.dropped_samples
        entry.reader.cancel()
        self._dying.add(entry.reader)
        entry.reader.add_done_callback(self._dying.discard)

    def set_audible(self, sources: set[str]) -> None:
        """Only these sources are mixed from now on; audio held for any other is dropped now."""
        self._audible = frozenset(sources)
        for source, entry in self._sources.items():
            if source not in self._audible:
                entry.buffer.clear()

    @property
    def sources(self) -> frozenset[str]:
        return frozenset(self._sources)

    async def _read(self, source: str, track: MediaStreamTrack, buffer: SourceBuffer) -> None:
        loop = asyncio.get_running_loop()
        converter = PcmConverter()
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return  # the peer went away; the edge will detach, or attach a new track
            self._take(source, frame, buffer, converter, loop.time())
            # aiortc's tracks always wait on a queue, but a track that returned frames without
            # ever suspending would otherwise starve the loop, and the clock, for good.
            await asyncio.sleep(0)

    def _take(
        self,
        source: str,
        frame: object,
        buffer: SourceBuffer,
        converter: PcmConverter,
        now: float,
    ) -> None:
        if source not in self._audible:
            # Enforcement: the reader keeps reading so the inbound queue cannot grow, and the
            # audio of a source that is not audible is dropped here, before any buffer.
            self._stats.muted_frames += 1
            return
        pts = None
        if isinstance(frame, PcmFrame):  # a speaker's, from the ingress: s16 stereo already
            pcm, pts = frame.pcm, frame.pts
            buffer.concealer = frame.conceal
        elif isinstance(frame, AudioFrame):
            try:
                pcm = converter.convert(frame)
            except Exception:
                log.exception("source %s: could not convert a frame; dropped", source)
                return
        else:
            log.warning("source %s sent a %s, not audio; ignored", source, type(frame).__name__)
            return
        self._stats.frames_in += 1
        if buffer.push(pcm, now, pts):
            self._phase.note_miss()  # the frame a tick missed: late, not lost
        self._arrived.set()

    # -- outputs -------------------------------------------------------------------------------

    def program_track(self) -> MediaStreamTrack:
        """A listener's track: Opus packets of the program, encoded once for everyone."""
        track = ProgramTrack(self._feed, self._listeners.discard)
        if self._stopped:
            track.stop()
        else:
            self._listeners.add(track)
        return track

    def mix_minus_track(self, source: str) -> MediaStreamTrack:
        """A stage member's track: Opus packets of the mix without ``source``'s own voice."""
        return self._mix_minus.track(source, stopped=self._stopped)

    def add_program_sink(self, sink: Callable[[Pcm, int], None]) -> None:
        """Hand `sink` the program of every tick from now on, silence included, with its pts."""
        self._program_sinks.append(sink)

    def remove_program_sink(self, sink: Callable[[Pcm, int], None]) -> None:
        if sink in self._program_sinks:
            self._program_sinks.remove(sink)

    def add_voice_sink(self, sink: VoiceSink) -> None:
        """Hand `sink` every tick the audio of each audible source that sent some (muted ones
        never), the level of every audible source, and the tick's loop time. It must not block."""
        self._voice_sinks.append(sink)

    def remove_voice_sink(self, sink: VoiceSink) -> None:
        if sink in self._voice_sinks:
            self._voice_sinks.remove(sink)

    @property
    def listener_count(self) -> int:
        return len(self._listeners)

    # -- the clock -----------------------------------------------------------------------------

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        tick = 0
        while True:
            tick += 1
            deadline = started + tick * self._period
            delay = deadline - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                # Deadlines are computed from the start, so lateness never accumulates. If the
                # loop stalled for whole ticks, skip them instead of bursting to catch up:
                # listeners would get a clump of packets, and sources have no audio for them
                # anyway (their buffers hold 60 ms at most).
                behind = int(-delay / self._period)
                if behind:
                    tick += behind
                    self._stats.skipped_ticks += behind
                    # Sources kept sending meanwhile; what piled up would be heard late, by
                    # the whole stall, until the drift check sheds it. Shed it now instead.
                    for entry in self._sources.values():
                        entry.buffer.trim(self._samples)
            if self._grace > 0:
                await self._wait_for_frames_due(loop)
            try:
                self._tick(tick, loop.time())
            except Exception:
                log.exception("mixer tick failed")  # one bad tick must not silence the space
            # The period never changes; only the phase moves, rarely and by bounded steps.
            started += self._phase.end_tick()

    async def _wait_for_frames_due(self, loop: asyncio.AbstractEventLoop) -> None:
        """Hold the tick, at most the grace, while an audible source with less than a tick
        buffered has its next frame due within the grace: a frame that arrives just after the
        tick is then heard now rather than a whole tick later. The deadlines of later ticks do
        not move (they count from the start), so the next interval is that much shorter."""
        limit = loop.time() + self._grace
        waiting = self._due_before(limit, loop.time())
        if not waiting:
            return
        self._stats.grace_waits += 1
        while waiting:
            left = limit - loop.time()
            if left <= 0:
                return
            self._arrived.clear()
            try:
                async with asyncio.timeout(left):
                    await self._arrived.wait()
            except TimeoutError:
                return
            waiting = [s for s in waiting if self._sources.get(s) and self._short(s)]
        self._stats.grace_catches += 1

    def _due_before(self, limit: float, now: float) -> list[str]:
        due = []
        for source, entry in self._sources.items():
            if source not in self._audible or not self._short(source):
                continue
            expected = entry.buffer.next_due(SAMPLE_RATE, after=now - self._period)
            # Due before the limit, and not so long overdue that the source has just stopped.
            if expected is not None and now - self._period < expected <= limit:
                due.append(source)
        return due

    def _short(self, source: str) -> bool:
        return self._sources[source].buffer.buffered < self._samples

    def _audio_of(self, buffer: SourceBuffer, now: float, arrivals: list[float]) -> Pcm | None:
        """A source's audio for this tick: what it sent or, if that is lost or late, its
        decoder's concealment of it; None when there is neither, and it is left out."""
        samples = self._samples
        pulled = buffer.pull(samples)
        if pulled is not None:
            if buffer.buffered < samples:  # a backlog would say nothing about the phase
                self._phase.note_wait(now - pulled.newest)
            arrivals.append(pulled.oldest)
            return pulled.pcm
        recent = buffer.last_push is not None and now - buffer.last_push < 2 * self._period
        if recent and buffer.missed():
            self._phase.note_miss()
        concealed = buffer.conceal(samples)
        if concealed is not None:
            self._stats.concealed_ticks += 1
        return concealed

    def _tick(self, tick: int, now: float) -> None:
        samples = self._samples
        pts = tick * samples  # media clock: RTP timestamps follow real time, gaps included
        total: Mix = np.zeros((samples, 2), dtype=np.int32)
        contributions: dict[str, Pcm] = {}
        arrivals: list[float] = []
        levels: dict[str, float] = {}
        for source, entry in self._sources.items():
            if source not in self._audible:
                continue
            pcm = self._audio_of(entry.buffer, now, arrivals)
            if pcm is None:
                levels[source] = SILENCE_DBOV
                continue
            contributions[source] = pcm
            levels[source] = level_dbov(pcm)
            np.add(total, pcm, out=total)
        self.levels = levels
        self._speakers.update(levels, now)
        for voice_sink in self._voice_sinks:
            try:
                voice_sink(contributions, levels, now)
            except Exception:
                log.exception("a voice sink failed")  # captions must not cost the audio

        if self._listeners or self._program_sinks:
            program = np.clip(total, -32768, 32767).astype(np.int16)
            if self._listeners:
                self._feed.publish(
                    self._encoder.encode(program, pts)
                    if contributions
                    else self._encoder.encode_silence(pts)
                )
                self._stats.packets += 1
                self._stats.encodes += 1
            for sink in self._program_sinks:
                sink(program, pts)  # the array is this tick's own: nobody writes to it again
        self._mix_minus.publish(total, contributions, pts)

        done = asyncio.get_running_loop().time()
        self._stats.ticks += 1
        self._stats.tick_seconds.append(done - now)
        for arrived in arrivals:
            self._stats.note_added(done - arrived)
