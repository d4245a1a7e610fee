"""Signs of life from a peer, noted as packets arrive, so that checking them costs nothing.

Asking aiortc for statistics every second cost about a tenth of the server's time with a few
hundred listeners. Instead, the handlers aiortc calls for each RTCP packet (what a listener
sends back: receiver reports) and each RTP packet (what a speaker sends) are wrapped to note
the time first.

A listener's RTCP (receiver reports, a compound packet every second or so from each) reaches
aiortc once per LISTENER_RTCP_SECONDS; each of the others is a sign of life once SRTCP has
authenticated it, and goes no further (aiortc_internals.thin_rtcp): aiortc's queue, task,
parsing, routing and statistics of each were the largest per-listener cost after the program's
send itself (docs/benchmarks.md). What aiortc keeps of them is the sender's remote-inbound
statistics (losses, jitter, round-trip time), then that many seconds old at most. A speaker's
RTCP all goes to aiortc: its sender reports time the reports the server sends back.

The peer's consent requests (RFC 7675, every few seconds from a browser) are signs of life too:
this side answers them but asks none itself (aiortc_internals.answer_consent_only), as media
servers that run ICE lite do; a peer that neither asks nor sends is gone, and edge.py drops it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol, TypeVar

from aiortc import RTCPeerConnection

from parley.media.aiortc_internals import (
    answer_consent_only,
    ice_connection,
    on_packets_from_peer,
    thin_rtcp,
)

LISTENER_RTCP_SECONDS = 5.0


class Heard(Protocol):
    @property
    def last_heard(self) -> float: ...


HeardT = TypeVar("HeardT", bound=Heard)


class SilenceWatch:
    """Which connections have been silent for `silence` seconds, looked at every `interval`.

    A look that comes more than an interval late means the loop itself stood still (the process
    or its host paused): what the peers sent meanwhile waits in the sockets, unread, so their
    silence is ours. Such a look drops nobody; the next one, after the loop has read the sockets,
    decides. Only one look in a row is excused, so a loop that is always late still drops the
    dead. (Reading the sockets first is not enough on its own: a timer that fell due in the same
    turn of the loop as the pause wakes the watch ahead of the readers.)"""

    def __init__(self, silence: float, interval: float, now: float) -> None:
        self.silence = silence
        self.interval = interval
        self._last_look = now
        self._excused = False

    def silent(self, peers: Iterable[HeardT], now: float) -> list[HeardT]:
        late = now - self._last_look > 2 * self.interval
        self._last_look = now
        if late and not self._excused:
            self._excused = True
            return []
        self._excused = False
        return [peer for peer in peers if now - peer.last_heard >= self.silence]


def note_signs_of_life(
    pc: RTCPeerConnection, mark: Callable[[], None], *, listener: bool, clock: Callable[[], float]
) -> None:
    """Call `mark` whenever the peer sends RTP or RTCP on any of the connection's transceivers,
    or asks for consent; a `listener`'s RTCP reaches aiortc once per LISTENER_RTCP_SECONDS of
    `clock`. This side asks no consent of the peer (answer_consent_only): call this before ICE
    connects."""
    transports = set()
    for transceiver in pc.getTransceivers():
        on_packets_from_peer(transceiver, mark)
        if transceiver.sender.transport is not None:
            transports.add(transceiver.sender.transport)
    for dtls in transports:  # one, bundled
        answer_consent_only(ice_connection(dtls), mark)
        if listener:
            thin_rtcp(dtls, mark, clock, LISTENER_RTCP_SECONDS)
