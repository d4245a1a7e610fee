"""The program of a space mixed on another node (its home), received once per node over one
authenticated WebSocket and handed to this node's listeners (issue 12).

On the wire each binary message is one Opus packet of the program exactly as the home mixer
encoded it, after its timestamp (pts at 48 kHz, 8 bytes, big-endian): nothing is decoded or
encoded again on the way, so a relay costs a node a socket read per packet, whatever its number
of listeners. Mute, removal and suspension are enforced by the home mixer before encoding.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from collections.abc import Awaitable, Callable

import websockets
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from av.packet import Packet

from parley.media.audio import stamped_packet
from parley.media.program import ProgramFeed, ProgramTrack

log = logging.getLogger(__name__)

_PTS = struct.Struct(">q")
# An Opus packet of a 20 ms stereo program is a few hundred bytes; anything larger is not ours.
MAX_MESSAGE_BYTES = 16 * 1024
# A home that stops answering pings this long is gone (a dead node's socket may never close).
PING_SECONDS = 1.0


def encode_packet(packet: Packet) -> bytes:  # type: ignore[type-arg]
    return _PTS.pack(packet.pts or 0) + bytes(packet)


def decode_packet(message: bytes) -> Packet:  # type: ignore[type-arg]
    if len(message) <= _PTS.size:
        raise ValueError("a relay message is a timestamp and an Opus packet")
    (pts,) = _PTS.unpack_from(message)
    return stamped_packet(message[_PTS.size :], pts)


async def send_program(track: MediaStreamTrack, send: Callable[[bytes], Awaitable[None]]) -> None:
    """On the home node: every packet of the program track to one relaying node, until the
    track ends (the mixer stopped) or sending fails (that node went away)."""
    try:
        while True:
            packet = await track.recv()
            assert isinstance(packet, Packet)
            await send(encode_packet(packet))
    except MediaStreamError:
        return
    finally:
        track.stop()


class RelayReceiver:
    """On a node with listeners of a space homed elsewhere: the home's program, as a source of
    program tracks (media/program_switch.py) that ends when the connection does."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self.url = url
        self.headers = headers
        self.feed = ProgramFeed()
        self.connected = asyncio.Event()
        self.packets = 0

    def program_track(self) -> MediaStreamTrack:
        return ProgramTrack(self.feed, lambda _track: None)

    async def run(self) -> None:
        """Receive until the connection ends or cannot be made; the feed is closed then."""
        try:
            async with websockets.connect(
                self.url,
                additional_headers=self.headers,
                open_timeout=2,
                ping_interval=PING_SECONDS,
                ping_timeout=2 * PING_SECONDS,
                max_size=MAX_MESSAGE_BYTES,
                compression=None,
            ) as socket:
                self.connected.set()
                async for message in socket:
                    if isinstance(message, bytes):
                        self.feed.publish(decode_packet(message))
                        self.packets += 1
        except (OSError, TimeoutError, websockets.WebSocketException, ValueError) as exc:
            log.info("relay from %s ended: %s", self.url, exc)
        finally:
            self.feed.close()
