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

from aiortc import RTCRtpReceiver

from parley.media.aiortc_internals import (
    JitterFrame,
    RtpPacket,
    payload_of,
    replace_jitter_buffer,
    track_queue,
)
from parley.media.audio import PcmFrame
from parley.media.opus import OpusDecoder, OpusError

log = logging.getLogger(__name__)

Decode = Callable[[bytes, int], list[PcmFrame]]


def opus_decoder() -> Decode:
    """libopus (opus.py), s16 stereo at 48 kHz as aiortc's receiver decodes: each packet becomes
    one PcmFrame, straight into the array the mixer reads."""
    decoder = OpusDecoder()

    def decode(data: bytes, timestamp: int) -> list[PcmFrame]:
        if not data:
            return []  # nothing arrived; libopus would conceal a lost packet instead
        return [PcmFrame(decoder.decode(data), timestamp)]

    return decode


class ImmediateAudioFrames:
    """A drop-in for aiortc's JitterBuffer, for audio: every packet in order is decoded at
    once and its frames delivered; none is left for aiortc's decoder thread."""

    capacity = 16

    def __init__(self, deliver: Callable[[PcmFrame], None], decode: Decode | None = None) -> None:
        self._deliver = deliver
        self._decode = decode or opus_decoder()
        self.last_sequence: int | None = None
        self.late = 0
        self.undecodable = 0

    def add(self, packet: RtpPacket) -> tuple[bool, JitterFrame | None]:
        """(whether to ask for a key frame: never for audio, a frame for aiortc's decoder
        thread: never, it was decoded here)."""
        if self.last_sequence is not None:
            ahead = (packet.sequence_number - self.last_sequence) & 0xFFFF
            if ahead == 0 or ahead >= 0x8000:  # a duplicate, or older than what went out
                self.late += 1
                return False, None
        self.last_sequence = packet.sequence_number
        try:
            frames = self._decode(payload_of(packet), packet.timestamp)
        except OpusError as exc:
            # The decoder keeps its state, as aiortc's does: the next packet decodes.
            self.undecodable += 1
            log.warning("an inbound Opus packet could not be decoded: %s", exc)
            return False, None
        for frame in frames:
            self._deliver(frame)
        return False, None

    def remove(self, count: int) -> None:
        """Nothing is held, so there is nothing to remove."""


def receive_without_delay(receiver: RTCRtpReceiver) -> None:
    """Make the receiver decode audio as it arrives and hand it to its track at once."""
    replace_jitter_buffer(receiver, ImmediateAudioFrames(track_queue(receiver).put_nowait))
