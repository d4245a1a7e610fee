"""The connecting task (connection.py) and reading an offer with aiortc's parser (offer.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiortc import RTCPeerConnection
from aiortc import sdp as _sdp

# --- the connecting task (connection.py) ---------------------------------------------------------


class ConnectHookedPeerConnection(RTCPeerConnection):
    """An RTCPeerConnection whose connecting task (ICE, then DTLS, then RTP: the private
    __connect that setLocalDescription starts in a task of its own) runs through `connecting`."""

    async def _RTCPeerConnection__connect(self) -> None:
        await self.connecting(super()._RTCPeerConnection__connect)  # type: ignore[misc]

    async def connecting(self, connect: Callable[[], Awaitable[None]]) -> None:
        await connect()


# --- reading an offer (offer.py) -----------------------------------------------------------------


class UnparsableSdp(ValueError):
    """aiortc's SDP parser refused the text."""


@dataclass(frozen=True)
class OfferedMedia:
    """What an offer's media section says, as far as deciding whether to answer it goes."""

    kind: str
    ice_credentials: bool
    dtls_fingerprints: int
    rtcp_mux: bool
    codecs: tuple[str, ...]  # MIME types, lower case
    candidates: int
    # The offerer will send on it (a=sendrecv or a=sendonly): only then does aiortc give the
    # answering side a track to receive (no direction at all counts as none, as aiortc reads it).
    sends: bool


def parse_offer(text: str) -> tuple[OfferedMedia, ...]:
    try:
        description = _sdp.SessionDescription.parse(text)
    except Exception as exc:  # aiortc's parser fails with asserts, int() and index errors
        raise UnparsableSdp(str(exc)) from exc
    return tuple(
        OfferedMedia(
            kind=m.kind,
            ice_credentials=bool(m.ice and m.ice.usernameFragment and m.ice.password),
            dtls_fingerprints=len(m.dtls.fingerprints) if m.dtls else 0,
            rtcp_mux=m.rtcp_mux,
            codecs=tuple(c.mimeType.lower() for c in m.rtp.codecs),
            candidates=len(m.ice_candidates),
            sends=m.direction in ("sendrecv", "sendonly"),
        )
        for m in description.media
    )
