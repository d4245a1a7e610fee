"""The program a room's listeners hear, from whichever source has it now: the room's own mixer
on the space's home node, or the relay of another node's mixer. When the home moves (a node
died), the room switches sources and its listeners keep their connections.

`ProgramFanout` (fanout.py) reads one track, `ProgramSwitch.track()`: that is the whole
interface between where the program comes from and how it is sent to listeners.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av.packet import Packet
from av.stream import Stream

# A source of the program: a fresh track of encoded Opus packets at each call.
ProgramSource = Callable[[], MediaStreamTrack]


class ProgramSwitch:
    def __init__(self) -> None:
        self.source: ProgramSource | None = None
        self.generation = 0
        self.closed = False
        self._changed = asyncio.Event()

    def use(self, source: ProgramSource) -> None:
        """Take the program from `source` from now on. Tracks reading the previous source move
        over once it ends (a relay whose connection dropped, a mixer that stopped)."""
        self.source = source
        self.generation += 1
        self._wake()

    def close(self) -> None:
        self.closed = True
        self._wake()

    def _wake(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def changed(self) -> None:
        await self._changed.wait()

    def track(self) -> MediaStreamTrack:
        return SwitchedTrack(self)


class SwitchedTrack(MediaStreamTrack):
    """The current source's packets, with timestamps that keep going up across a switch: the
    new source's clock started elsewhere, and a listener's RTP timestamps must not jump back."""

    kind = "audio"

    def __init__(self, switch: ProgramSwitch) -> None:
        super().__init__()
        self._switch = switch
        self._inner: MediaStreamTrack | None = None
        self._generation = -1
        self._offset: int | None = 0  # None: work it out from the next packet
        self._last_pts: int | None = None
        self._step = 960  # one 20 ms packet at 48 kHz, until packets say otherwise

    async def recv(self) -> Packet[Stream]:
        switch = self._switch
        while True:
            if switch.closed or self.readyState != "live":
                raise MediaStreamError
            if self._inner is None or self._generation != switch.generation:
                if switch.source is None:
                    await switch.changed()
                    continue
                self._replace(switch.source(), switch.generation)
            assert self._inner is not None
            try:
                packet = await self._inner.recv()
            except MediaStreamError:
                self._inner = None
                if self._generation == switch.generation:
                    await switch.changed()  # this source ended: wait for the next one
                continue
            assert isinstance(packet, Packet)
            return self._restamped(packet)

    def _replace(self, track: MediaStreamTrack, generation: int) -> None:
        if self._inner is not None:
            self._inner.stop()
        self._inner, self._generation = track, generation
        if self._last_pts is not None:
            self._offset = None

    def _restamped(self, packet: Packet[Stream]) -> Packet[Stream]:
        pts = packet.pts or 0
        if self._offset is None:
            assert self._last_pts is not None
            self._offset = self._last_pts + self._step - pts
        if self._last_pts is not None and 0 < pts + self._offset - self._last_pts <= 4 * 960:
            self._step = pts + self._offset - self._last_pts
        if self._offset:
            # A packet of our own: the source's packet may be read by others (relays).
            restamped = Packet(bytes(packet))
            restamped.pts = pts + self._offset
            restamped.time_base = packet.time_base
            packet = restamped
        self._last_pts = packet.pts
        return packet

    def stop(self) -> None:
        super().stop()
        if self._inner is not None:
            self._inner.stop()
            self._inner = None
