"""Sending the program to every listener in one loop per packet.

aiortc gives each sender a task that wakes for every packet, reads it from its track, packs it,
builds an RTP packet and sends it: with hundreds of listeners those wake-ups and objects were
about half of the server's time (docs/benchmarks.md). Here one task reads the program once per
packet and, for each listener, writes the RTP header (its own SSRC, sequence number and
timestamp, starting where aiortc would have), protects it with the listener's SRTP session and
sends it: in one call into C for all listeners (native_send.py), or, where that is not built or
pylibsrtp no longer matches it, one batch per packet from Python (sendpath.py), or, if the
installed aiortc lacks what either needs, through aiortc's transport
(aiortc_internals.OutboundRtp.send).
aiortc still negotiates the connection; the sender's RTCP task is one of ours that reports once
per SENDER_REPORT_SECONDS (as libwebrtc does for audio, rather than aiortc's one a second) with
the figures of what went; aiortc's sender task is parked on a track that never yields, so it
costs nothing until the connection closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from aiortc import MediaStreamError, MediaStreamTrack, RTCRtpSender
from av.packet import Packet

from parley.media.aiortc_internals import OutboundRtp, ntp_now, on_send, report_every
from parley.media.native_send import NativeSend, native_send_available
from parley.media.sendpath import DirectListener, DirectSend, direct_send_available

log = logging.getLogger(__name__)

RTP_CLOCK = 48_000
# A listener's RTCP sender reports, one per this many seconds on average (aiortc_internals).
SENDER_REPORT_SECONDS = 5.0


class ParkedTrack(MediaStreamTrack):
    """What aiortc's own sender loop waits on: nothing, until it is stopped."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._stopped = asyncio.Event()

    async def recv(self) -> Any:
        await self._stopped.wait()
        raise MediaStreamError

    def stop(self) -> None:
        super().stop()
        self._stopped.set()


class ProgramFanout:
    """The listeners of one room, and the one task that sends them the program."""

    def __init__(
        self,
        program_track: Callable[[], MediaStreamTrack],
        *,
        direct: bool | None = None,
        native: bool | None = None,
        sendmmsg: bool | None = None,
    ) -> None:
        """`direct`: send below aiortc (None: whenever the installed aiortc allows it);
        `native`: send directly through the C loop (None: if it is built and matches pylibsrtp);
        otherwise `sendmmsg`: batch with the C helper rather than socket.sendto (None: if it is
        built)."""
        self._program_track = program_track
        if direct is None:
            direct = direct_send_available()
        self.direct: NativeSend | DirectSend | None = None
        if direct:
            if native is None:
                native = native_send_available()
            self.direct = NativeSend() if native else DirectSend(sendmmsg=sendmmsg)
        self._listeners: dict[RTCRtpSender, OutboundRtp] = {}
        self._direct_listeners: dict[RTCRtpSender, DirectListener] = {}
        self._task: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self._listeners)

    def attach(self, sender: RTCRtpSender) -> None:
        """Take over sending for this sender once aiortc starts it (the connection is up)."""
        sender.replaceTrack(ParkedTrack())
        on_send(sender, self._started)
        report_every(sender, SENDER_REPORT_SECONDS, functools.partial(self._before_report, sender))

    def _before_report(self, sender: RTCRtpSender) -> None:
        """The figures of what went to this listener, for its sender report to carry."""
        direct = self._direct_listeners.get(sender)
        if direct is not None and self.direct is not None:
            self.direct.sync(direct)

    def _started(self, listener: OutboundRtp) -> None:
        self._listeners[listener.sender] = listener
        if self.direct is not None:
            direct = self._direct_listeners[listener.sender] = DirectListener.of(listener)
            self.direct.add(direct)
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="program-fanout")

    def detach(self, sender: RTCRtpSender) -> None:
        self._listeners.pop(sender, None)
        direct = self._direct_listeners.pop(sender, None)
        if direct is not None and self.direct is not None:
            self.direct.discard(direct)

    async def close(self) -> None:
        self._listeners.clear()
        self._direct_listeners.clear()
        if self.direct is not None:
            self.direct.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        track = self._program_track()
        try:
            while True:
                packet = await track.recv()
                assert isinstance(packet, Packet)
                try:
                    await self._send_all(bytes(packet), _rtp_time(packet.pts, packet.time_base))
                except Exception:
                    # One bad packet must not silence every listener for good.
                    log.exception("program fan-out: sending a packet failed")
        except MediaStreamError:
            pass
        finally:
            track.stop()

    async def _send_all(self, payload: bytes, rtp_time: int) -> None:
        if self.direct is not None:
            self.direct.send_program(payload, rtp_time)
            return
        ntp_time = ntp_now()
        for listener in list(self._listeners.values()):
            try:
                await listener.send(payload, rtp_time, ntp_time)
            except ConnectionError:
                continue  # closing: its room drops it


def _rtp_time(pts: int | None, time_base: Fraction | None) -> int:
    if pts is None or time_base is None:
        return 0
    return int(pts * time_base * RTP_CLOCK)
