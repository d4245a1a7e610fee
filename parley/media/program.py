"""The program: the whole stage mixed, encoded to Opus once per tick, shared by every listener.

Listeners get already-encoded packets (aiortc's RTCRtpSender packs an ``av.Packet`` coming out of
a track without encoding it again), so the cost of a listener is a queue read and an RTP send,
never an encode. Packets are published into one short shared ring; each listener track keeps its
own read position. A listener that falls behind skips to the oldest packet still held, so a slow
listener loses audio without holding up the mixer or anyone else, and publishing costs the same
for one listener or thousands.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av.packet import Packet
from av.stream import Stream

from parley.media.audio import Pcm, samples_per_tick, silence, stamped_packet
from parley.media.opus import Application, OpusEncoder

# Identical packets in a row, encoding digital silence, after which the encoder counts as settled
# and its last packet is sent again instead of encoding more silence. libopus needs a frame or
# two to flush its look-ahead (the tail of the audio before), then codes silence as the same
# 3-byte packet every frame.
SETTLED_SILENCE = 3


class ProgramEncoder:
    """libopus (opus.py), fed one tick at a time; one packet comes out per frame that goes in.

    Silence costs an encode only until the encoder has settled (`encode_silence`): after that
    the same packet goes out again. A stage member's mix-minus is silence whenever they alone
    speak, and the program whenever nobody does; encoding it was a quarter of a live space's
    fixed cost (docs/benchmarks.md). What the encoder skips is silence only, so when audio comes
    back its state is that of an encoder which has seen silence (3 frames of it instead of
    more): decoded, the first frames after differ from those of a continuous encode by 40 dB
    or more below the signal (tests/unit/test_program_encoder.py), and every packet decodes.
    """

    def __init__(
        self, frame_ms: int = 20, bit_rate: int = 64_000, application: Application = "audio"
    ) -> None:
        # "audio" rather than "voip": the program is a finished mix heard by many, often with
        # several voices, and it is encoded once, so spending a little more on quality is cheap.
        # (A mix-minus is encoded as aiortc's sender would: "voip", 96 kbit/s; mixminus.py.)
        self._codec = OpusEncoder(samples_per_tick(frame_ms), bit_rate, application)
        self._silence = silence(samples_per_tick(frame_ms))
        self._silent_packet = b""  # the last packet of silence, while they come out the same
        self._silent_repeats = 0
        self.skipped = 0  # silent frames sent again rather than encoded

    def encode(self, pcm: Pcm, pts: int) -> Packet[Stream]:
        """One tick of audio, exactly a frame of the encoder's."""
        self._silent_packet, self._silent_repeats = b"", 0
        return stamped_packet(self._codec.encode(pcm), pts)

    def encode_silence(self, pts: int) -> Packet[Stream]:
        """A tick of digital silence, encoded until the encoder has settled, then repeated."""
        if self._silent_repeats >= SETTLED_SILENCE:
            self.skipped += 1
            return stamped_packet(self._silent_packet, pts)
        data = self._codec.encode(self._silence)
        if data == self._silent_packet:
            self._silent_repeats += 1
        else:
            self._silent_packet, self._silent_repeats = data, 1
        return stamped_packet(data, pts)


class ProgramFeed:
    """A short ring of the latest encoded packets, plus a wake-up for tracks waiting on it."""

    def __init__(self, depth: int = 3) -> None:
        self._ring: deque[Packet[Stream]] = deque(maxlen=depth)
        self._head = -1  # sequence number of the newest packet in the ring
        self._published = asyncio.Event()
        self.closed = False
        self.lagged = 0  # packets skipped by listeners that fell behind

    @property
    def next_seq(self) -> int:
        return self._head + 1

    def publish(self, packet: Packet[Stream]) -> None:
        self._ring.append(packet)
        self._head += 1
        # One Event per packet: waiters of this packet are woken by set(), and later waiters
        # wait on a fresh one, so nobody has to clear() an event others are still reading.
        published, self._published = self._published, asyncio.Event()
        published.set()

    def close(self) -> None:
        self.closed = True
        self._published.set()

    async def read(self, seq: int) -> tuple[Packet[Stream], int]:
        """The packet numbered ``seq`` (or the oldest still held, if it is gone) and its number."""
        while True:
            if self.closed:
                raise MediaStreamError
            oldest = self._head - len(self._ring) + 1
            if seq < oldest:
                self.lagged += oldest - seq
                seq = oldest
            if seq <= self._head:
                return self._ring[seq - oldest], seq
            await self._published.wait()


class ProgramTrack(MediaStreamTrack):
    """What a listener's RTCRtpSender reads: encoded Opus packets of the program."""

    kind = "audio"

    def __init__(self, feed: ProgramFeed, on_stop: Callable[[ProgramTrack], None]) -> None:
        super().__init__()
        self._feed = feed
        self._on_stop = on_stop
        # Start with the next packet, not an old one: a new listener hears the present.
        self._seq = feed.next_seq

    async def recv(self) -> Packet[Stream]:
        if self.readyState != "live":
            raise MediaStreamError
        packet, seq = await self._feed.read(self._seq)
        if self.readyState != "live":
            raise MediaStreamError
        self._seq = seq + 1
        return packet

    def stop(self) -> None:
        if self.readyState == "live":
            super().stop()
            self._on_stop(self)
