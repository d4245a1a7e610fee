"""Mix-minus tracks: what a stage member hears, the mix without their own voice.

These carry Opus packets, encoded by the mixer in its tick (`MixMinusEncoder`), one encode per
stage member: aiortc's sender packs a packet without encoding it again, as it does the
program's. Handed PCM frames instead, aiortc encoded each one in a thread of its executor (a
hop there and back per frame) and computed its RFC 6464 audio level in a Python loop over every
sample: with one speaker and no listener at all, the return feed of that one speaker was a
quarter of the server's main thread (docs/benchmarks.md). The packets carry no audio-level
header extension, which nothing reads from a mix-minus.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import deque
from collections.abc import Callable, Mapping

import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av.packet import Packet
from av.stream import Stream

from parley.media.audio import Mix, Pcm
from parley.media.opus import Application
from parley.media.program import ProgramEncoder

# What aiortc's own Opus encoder uses for a track it encodes: a speaker hears the stage as
# before.
MIX_MINUS_BIT_RATE = 96_000
MIX_MINUS_APPLICATION: Application = "voip"


class MixMinusEncoder:
    """One stage member's mix-minus, encoded once per tick for all of that member's tracks."""

    def __init__(self, frame_ms: int) -> None:
        self._encoder = ProgramEncoder(
            frame_ms, bit_rate=MIX_MINUS_BIT_RATE, application=MIX_MINUS_APPLICATION
        )

    def encode(self, pcm: Pcm, pts: int) -> Packet[Stream]:
        return self._encoder.encode(pcm, pts)

    def encode_silence(self, pts: int) -> Packet[Stream]:
        """The mix without the member is silence (they alone speak, or nobody does)."""
        return self._encoder.encode_silence(pts)

    @property
    def skipped(self) -> int:
        return self._encoder.skipped


class MixMinusTrack(MediaStreamTrack):
    kind = "audio"

    def __init__(
        self, source: str, on_stop: Callable[[MixMinusTrack], None], depth: int = 3
    ) -> None:
        super().__init__()
        self.source = source
        self._on_stop = on_stop
        # Bounded: if the sender stalls, old audio is dropped rather than played late.
        self._packets: deque[Packet[Stream]] = deque(maxlen=depth)
        self._waiter: asyncio.Future[None] | None = None
        self.dropped = 0

    def push(self, packet: Packet[Stream]) -> None:
        if len(self._packets) == self._packets.maxlen:
            self.dropped += 1
        self._packets.append(packet)
        self._wake()

    async def recv(self) -> Packet[Stream]:
        while not self._packets:
            if self.readyState != "live":
                raise MediaStreamError
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        if self.readyState != "live":
            raise MediaStreamError
        return self._packets.popleft()

    def stop(self) -> None:
        if self.readyState == "live":
            super().stop()
            self._packets.clear()
            self._wake()
            self._on_stop(self)

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


class MixMinusFeeds:
    """Every stage member's mix-minus: their tracks, and one encoder each, fed once a tick.

    Weak sets, as for the program's listeners: aiortc's RTCRtpSender.stop() does not stop its
    track, and a track nobody stopped must not keep being encoded for.
    """

    def __init__(self, frame_ms: int) -> None:
        self._frame_ms = frame_ms
        self._tracks: dict[str, weakref.WeakSet[MixMinusTrack]] = {}
        self._encoders: dict[str, MixMinusEncoder] = {}
        self._retired_drops = 0  # counted by tracks that are gone, so the stats survive them

    def track(self, source: str, *, stopped: bool) -> MixMinusTrack:
        track = MixMinusTrack(source, self._forget)
        if stopped:
            track.stop()
        else:
            self._tracks.setdefault(source, weakref.WeakSet()).add(track)
        return track

    def __bool__(self) -> bool:
        return bool(self._tracks)

    @property
    def dropped(self) -> int:
        """Packets dropped because a sender did not read them."""
        return self._retired_drops + sum(t.dropped for ts in self._tracks.values() for t in ts)

    @property
    def silence_repeats(self) -> int:
        return sum(e.skipped for e in self._encoders.values())

    def publish(self, total: Mix, contributions: Mapping[str, Pcm], pts: int) -> None:
        """Hands each member this tick's mix (`total`, of every `contribution`) less their own."""
        for source, tracks in list(self._tracks.items()):
            if not tracks:
                del self._tracks[source]  # all of them collected without being stopped
                self._encoders.pop(source, None)
                continue
            own = contributions.get(source)
            encoder = self._encoders.get(source)
            if encoder is None:
                encoder = self._encoders[source] = MixMinusEncoder(self._frame_ms)
            if len(contributions) == (0 if own is None else 1):
                # Nobody else was heard this tick: the mix without this member is silence.
                packet = encoder.encode_silence(pts)
            else:
                minus = total if own is None else total - own
                packet = encoder.encode(np.clip(minus, -32768, 32767).astype(np.int16), pts)
            for track in tracks:
                track.push(packet)  # shared: a sender only reads its bytes

    def stop(self) -> None:
        for tracks in list(self._tracks.values()):
            for track in list(tracks):
                track.stop()

    def _forget(self, track: MixMinusTrack) -> None:
        self._retired_drops += track.dropped
        tracks = self._tracks.get(track.source)
        if tracks is not None:
            tracks.discard(track)
            if not tracks:
                del self._tracks[track.source]
                self._encoders.pop(track.source, None)
