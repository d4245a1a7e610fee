"""Inbound audio without aiortc's playout delay.

aiortc's receiver holds audio in a jitter buffer that releases a frame only once four later
ones have arrived: 80 ms of delay, made for playing audio out of a speaker. The mixer has its
own small buffer aligned to its ticks, so on the server each Opus packet (one packet is one
whole frame) goes to the decoder the moment it arrives; a packet older than one already passed
on is late and dropped, as a playout buffer would have dropped it too.
"""

from __future__ import annotations

from aiortc import RTCRtpReceiver

from parley.media.aiortc_internals import JitterFrame, RtpPacket, payload_of, replace_jitter_buffer


class ImmediateAudioFrames:
    """A drop-in for aiortc's JitterBuffer, for audio: every packet is released at once."""

    capacity = 16

    def __init__(self) -> None:
        self.last_sequence: int | None = None
        self.late = 0

    def add(self, packet: RtpPacket) -> tuple[bool, JitterFrame | None]:
        """(whether to ask for a key frame: never for audio, the frame to decode or None)."""
        if self.last_sequence is not None:
            ahead = (packet.sequence_number - self.last_sequence) & 0xFFFF
            if ahead == 0 or ahead >= 0x8000:  # a duplicate, or older than what went out
                self.late += 1
                return False, None
        self.last_sequence = packet.sequence_number
        return False, JitterFrame(data=payload_of(packet), timestamp=packet.timestamp)

    def remove(self, count: int) -> None:
        """Nothing is held, so there is nothing to remove."""


def receive_without_delay(receiver: RTCRtpReceiver) -> None:
    """Make the receiver hand audio to its decoder as it arrives."""
    replace_jitter_buffer(receiver, ImmediateAudioFrames())
