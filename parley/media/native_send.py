"""The program to every listener through the C fan-out (`_fanout.c`): no Python per listener.

sendpath.DirectSend spends, per listener per packet, Python on the header patch, pylibsrtp's
wrapper, the sender-report figures and the batch (about 9 to 15 µs at 200 to 800 listeners,
docs/benchmarks.md). Here, per packet, Python writes the header once per layout and makes one
call: C patches each listener's header, calls libsrtp's srtp_protect on the listener's context
and sends with sendmmsg. Python looks at each listener only every SYNC_PACKETS packets: that its
DTLS session and ICE pair are still the ones wired into C (a renomination re-wires it, a closed
socket or ended DTLS unwires it). The figures kept in C go to aiortc's sender as each of its
RTCP sender reports is made (`sync`), each report consistent in itself (its packet and octet
counts are those of the packet whose RTP and NTP timestamps it carries). A listener C cannot
reach (a TURN allocation, not a plain socket), or not yet connected, goes through DirectSend as
before.

pylibsrtp's private names are in srtp_internals, checked by `native_send_problems()`; if the check
fails the fan-out uses DirectSend, and says why once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from pylibsrtp import Session as SrtpSession

from parley.media.aiortc_internals import OutboundRtp, header_template, ntp_now
from parley.media.datagrams import Route
from parley.media.faster_path import FasterPath
from parley.media.sendpath import DirectListener, DirectSend
from parley.media.srtp_internals import (
    context_address,
    fanout_module,
    native_send_problems,
    protect_address,
)

log = logging.getLogger(__name__)

# Every this many packets (500 ms of 20 ms Opus) each listener's wiring is checked. Every 10
# packets, with the figures handed over each time, this took about 2 % of the server's samples
# at 400 listeners (py-spy); the figures now go only for a sender report (sync()).
# A share of the listeners is checked after each packet is sent, not all of them before one:
# all at once held that packet (and the loop) for a few ms every 500 ms at 400 listeners.
SYNC_PACKETS = 25
native_path = FasterPath(log, "sending from Python, not the C loop")


def native_send_available() -> bool:
    """Whether the C fan-out is built and agrees with pylibsrtp; logs why not, once."""
    return native_path.usable(native_send_problems())


@dataclass(frozen=True, eq=False)
class _Wired:
    """What a listener was wired into C with: re-wired when either changes."""

    slot: int
    session: SrtpSession
    route: Route


class NativeSend:
    """Sends one packet of the program to every listener in one call into C."""

    sendmmsg = True

    def __init__(self) -> None:
        module = fanout_module()
        if module is None:
            raise RuntimeError("parley.media._fanout is not built (pip install -e .)")
        self._fanout: Any = module.Fanout(protect_address())
        self._listeners: dict[DirectListener, _Wired | None] = {}
        # Listeners not wired into C (connecting, closing, or behind TURN): sent from Python.
        self._unwired: dict[DirectListener, None] = {}
        self._python = DirectSend()
        self._layouts: dict[tuple[object, ...], int] = {}
        self._layout_streams: list[OutboundRtp] = []
        self._cursor = 0  # where the next share of listeners to check starts

    @property
    def sent(self) -> int:
        """Datagrams handed to the kernel."""
        return int(self._fanout.sent) + self._python.sent

    @property
    def dropped(self) -> int:
        """Datagrams protected but not sent (a full socket buffer)."""
        return int(self._fanout.dropped) + self._python.dropped

    @property
    def wired(self) -> int:
        """Listeners sent to by the C loop."""
        return int(self._fanout.wired())

    def add(self, listener: DirectListener) -> None:
        self._listeners[listener] = None
        self._check(listener)

    def discard(self, listener: DirectListener) -> None:
        if listener in self._listeners:
            wired = self._listeners.pop(listener)
            self._unwired.pop(listener, None)
            if wired is not None:
                self._unwire(listener, wired)

    def close(self) -> None:
        for listener in list(self._listeners):
            self.discard(listener)

    def send_program(self, payload: bytes, rtp_time: int) -> None:
        ntp_time = ntp_now()
        templates = tuple(
            bytes(header_template(stream, payload, ntp_time)) for stream in self._layout_streams
        )
        failed_before = int(self._fanout.refused)
        self._fanout.send(templates, rtp_time, ntp_time, len(payload))
        if self._fanout.refused != failed_before:
            log.warning("SRTP refused %d packets", self._fanout.refused - failed_before)
        if self._unwired:
            self._python.send(self._unwired, payload, rtp_time)
        self._check_share()

    def sync(self, listener: DirectListener) -> None:
        """Hand aiortc's sender the figures C keeps for this listener (before a report)."""
        wired = self._listeners.get(listener)
        if wired is not None:
            self._report(listener.stream, self._fanout.stream(wired.slot))

    def check(self) -> None:
        """Re-wire each listener whose session or route changed."""
        for listener in list(self._listeners):
            self._check(listener)

    def _check_share(self) -> None:
        """Check the next 1/SYNC_PACKETS of the listeners (at least one), in turn: each is
        checked every SYNC_PACKETS packets or sooner (a listener leaving moves the turn by one)."""
        listeners = list(self._listeners)
        if not listeners:
            return
        start = self._cursor % len(listeners)
        share = listeners[start : start + -(-len(listeners) // SYNC_PACKETS)]
        self._cursor = start + len(share)
        for listener in share:
            self._check(listener)

    def _check(self, listener: DirectListener) -> None:
        wired = self._listeners[listener]
        srtp = listener.wire.srtp()
        route = listener.current_route() if srtp is not None else None
        reachable = route is not None and route.sock is not None and route.open()
        if wired is not None:
            if reachable and wired.session is srtp and wired.route is route:
                return
            self._unwire(listener, wired)
        if reachable:
            assert srtp is not None and route is not None and route.sock is not None
            try:
                slot = self._wire(listener.stream, srtp, route.sock.fileno(), route.sockaddr)
            except (OSError, ValueError):
                pass  # closed since the route was looked up: sent from Python, or not at all
            else:
                self._listeners[listener] = _Wired(slot, srtp, route)
                self._unwired.pop(listener, None)
                return
        self._unwired[listener] = None

    def _wire(self, stream: OutboundRtp, srtp: SrtpSession, fd: int, sockaddr: bytes) -> int:
        layout = self._layouts.get(stream.layout)
        if layout is None:
            layout = self._layouts[stream.layout] = len(self._layout_streams)
            self._layout_streams.append(stream)
        slot: int = self._fanout.wire(
            srtp,
            context_address(srtp),
            fd,
            sockaddr,
            stream.ssrc,
            stream.sequence,
            stream.timestamp_origin,
            layout,
            stream.packets,
            stream.octets,
        )
        return slot

    def _unwire(self, listener: DirectListener, wired: _Wired) -> None:
        """The stream goes on from where C left it (in Python, or re-wired)."""
        self._listeners[listener] = None
        self._report(listener.stream, self._fanout.unwire(wired.slot))

    @staticmethod
    def _report(stream: OutboundRtp, figures: tuple[int, int, int, int, int]) -> None:
        sequence, packets, octets, timestamp, ntp_time = figures
        stream.sequence = sequence
        if packets != stream.packets:
            stream.reported(packets, octets, timestamp, ntp_time)
