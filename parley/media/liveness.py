"""Signs of life from a peer, noted as packets arrive, so that checking them costs nothing.

Asking aiortc for statistics every second cost about a tenth of the server's time with a few
hundred listeners. Instead, the handlers aiortc calls for each RTCP packet (what a listener
sends back: receiver reports) and each RTP packet (what a speaker sends) are wrapped to note
the time first.
"""

from __future__ import annotations

from collections.abc import Callable

from aiortc import RTCPeerConnection

from parley.media.aiortc_internals import on_packets_from_peer


def note_signs_of_life(pc: RTCPeerConnection, mark: Callable[[], None]) -> None:
    """Call `mark` whenever the peer sends RTP or RTCP on any of the connection's transceivers."""
    for transceiver in pc.getTransceivers():
        on_packets_from_peer(transceiver, mark)
