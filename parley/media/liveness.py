"""Signs of life from a peer, noted as packets arrive, so that checking them costs nothing.

Asking aiortc for statistics every second cost about a tenth of the server's time with a few
hundred listeners. Instead, the handlers aiortc calls for each RTCP packet (what a listener
sends back: receiver reports) and each RTP packet (what a speaker sends) are wrapped to note
the time first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiortc import RTCPeerConnection

# aiortc's per-packet entry points (RTCDtlsTransport calls them on the receiving object).
_HANDLERS = (("sender", "_handle_rtcp_packet"), ("receiver", "_handle_rtp_packet"))


def note_signs_of_life(pc: RTCPeerConnection, mark: Callable[[], None]) -> bool:
    """Call `mark` whenever the peer sends RTP or RTCP on any of the connection's transceivers.
    False if this aiortc lacks the handlers (the caller then needs another way to tell)."""
    wrapped = False
    for transceiver in pc.getTransceivers():
        for side, name in _HANDLERS:
            target = getattr(transceiver, side)
            original = getattr(target, name, None)
            if original is None:
                continue
            setattr(target, name, _noting(original, mark))
            wrapped = True
    return wrapped


def _noting(
    handler: Callable[..., Awaitable[None]], mark: Callable[[], None]
) -> Callable[..., Awaitable[None]]:
    async def noted(*args: Any, **kwargs: Any) -> None:
        mark()
        await handler(*args, **kwargs)

    return noted
