"""Inbound audio without aiortc's playout delay, decoded where it arrives.

aiortc's receiver holds audio in a jitter buffer that releases a frame only once four later
ones have arrived: 80 ms of delay, made for playing audio out of a speaker. The mixer has its
own small buffer aligned to its ticks, so on the server each Opus packet (one packet is one
whole frame) is decoded the moment it arrives; a packet older than one already passed on is
late and dropped, as a playout buffer would have dropped it too.

It is decoded here, on the event loop, by libopus itself (opus.py: no av packet or frame, and no
copy out of one), and the PCM put straight on the track's queue as a PcmFrame, rather than
handed to aiortc's decoder thread: that thread took each packet from a queue.Queue and gave each
frame back through asyncio.run_coroutine_threadsafe (a task, a future and a wake-up of the loop
per 20 ms), which cost several times the decode itself (about 50 us). aiortc's thread then waits
on an empty queue until the receiver stops, and ends the track as before.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from aiortc import RTCRtpReceiver

from parley.media.aiortc_internals import (
    JitterFrame,
    RtpPacket,
    payload_of,
    replace_jitter_buffer,
    track_queue,
)
from parley.media.audio import Pcm, PcmFrame
from parley.media.opus import OpusDecoder, OpusError

log = logging.getLogger(__name__)


class Decoder(Protocol):
    """What the ingress needs of a decoder (opus.py's OpusDecoder is one)."""

    def decode(self, data: bytes) -> Pcm: ...

    def conceal(self, samples: int) -> Pcm: ...


class ImmediateAudioFrames:
    """A drop-in for aiortc's JitterBuffer, for audio: every packet in order is decoded at
    once and its frames delivered; none is left for aiortc's decoder thread.

    Each frame carries `conceal`: when the mixer's tick finds no frame of this source, it asks
    for libopus's concealment of the missing time instead of leaving a hole in the voice. A
    packet that was only late is still decoded and played after it, as a playout buffer plays
    a late packet after an expansion: dropping it instead replaced every frame by a guess
    while a speaker's frames came just after the ticks (bench/loss.py), and the mixer sheds
    the tick of delay it adds once it stands.
    """

    capacity = 16

    def __init__(self, deliver: Callable[[PcmFrame], None], decoder: Decoder | None = None) -> None:
        self._deliver = deliver
        self._decoder: Decoder = decoder or OpusDecoder()
        self._conceal = self.conceal  # one bound method, handed out with every frame
        self._decoded = False
        self.last_sequence: int | None = None
        self.late = 0
        self.undecodable = 0
        self.concealed_samples = 0

    def add(self, packet: RtpPacket) -> tuple[bool, JitterFrame | None]:
        """(whether to ask for a key frame: never for audio, a frame for aiortc's decoder
        thread: never, it was decoded here)."""
        if self.last_sequence is not None:
            ahead = (packet.sequence_number - self.last_sequence) & 0xFFFF
            if ahead == 0 or ahead >= 0x8000:  # a duplicate, or older than what went out
                self.late += 1
                return False, None
        self.last_sequence = packet.sequence_number
        data = payload_of(packet)
        if not data:
            return False, None  # nothing to decode; its time is concealed if the mixer misses it
        try:
            pcm = self._decoder.decode(data)
        except OpusError as exc:
            # The decoder keeps its state, as aiortc's does: the next packet decodes.
            self.undecodable += 1
            log.warning("an inbound Opus packet could not be decoded: %s", exc)
            return False, None
        self._decoded = True
        self._deliver(PcmFrame(pcm, packet.timestamp, self._conceal))
        return False, None

    def conceal(self, samples: int) -> Pcm | None:
        """`samples` of audio in place of what did not arrive in time (None before the first
        frame: there is no voice to carry on)."""
        if not self._decoded:
            return None
        try:
            pcm = self._decoder.conceal(samples)
        except OpusError as exc:
            log.warning("could not conceal a missing frame: %s", exc)
            return None
        self.concealed_samples += len(pcm)
        return pcm

    def remove(self, count: int) -> None:
        """Nothing is held, so there is nothing to remove."""


def receive_without_delay(receiver: RTCRtpReceiver) -> None:
    """Make the receiver decode audio as it arrives and hand it to its track at once."""
    replace_jitter_buffer(receiver, ImmediateAudioFrames(track_queue(receiver).put_nowait))
