"""A listener's connection as after ICE and DTLS, for driving the program's send paths
(media/sendpath.py, media/native_send.py) without a negotiation: an SRTP session of a known key
and a nominated pair whose socket is any datagram transport."""

from __future__ import annotations

import asyncio

from pylibsrtp import Policy, Session

from parley.media.aiortc_internals import Wire


class FakePair:
    """aioice's nominated pair, as far as the direct paths read it."""

    def __init__(self, transport: asyncio.DatagramTransport, remote: tuple[str, int]) -> None:
        self.protocol = type("Protocol", (), {"transport": transport})()
        self.remote_addr = remote


class FakeWire:
    def __init__(self, pair: FakePair | None, key: bytes) -> None:
        self.session = Session(Policy(key, Policy.SSRC_ANY_OUTBOUND))
        self.nominated = {1: pair} if pair else {}

    def srtp(self) -> Session | None:
        return self.session

    def pair(self) -> object | None:
        return self.nominated.get(1)

    selected = staticmethod(Wire.selected)


class Inbox(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.got: asyncio.Queue[bytes] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.got.put_nowait(data)
