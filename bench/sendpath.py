"""The program fan-out's send path alone: CPU per listener per packet, without WebRTC set-up.

N listeners, each with a real aiortc sender (its SSRC and numbering), a real SRTP session and a
UDP socket of its own, as after ICE and DTLS; every datagram goes to one receiving socket on
loopback that nobody reads (the kernel drops what overflows: the sender's cost is the same). The
same packets are sent through the C loop (native_send.py: SRTP and sendmmsg in C), from Python
with the sendmmsg helper and with the socket.sendto fallback, and from Python not sent at all
(the Python side alone: header, SRTP, bookkeeping). CPU time of this process, so the figure
holds on a busy machine better than a throughput would; pin it with taskset.

    taskset -c 1 python -m bench.sendpath [--listeners 800] [--packets 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from typing import Any, cast

from aiortc import RTCPeerConnection
from pylibsrtp import Policy, Session

from bench.common import raise_fd_limit
from parley.media.aiortc_internals import OutboundRtp, Wire
from parley.media.datagrams import Batch
from parley.media.native_send import NativeSend
from parley.media.sendpath import DirectListener, DirectSend
from tests.support.rtp import OPUS


class _Pair:
    def __init__(self, transport: asyncio.DatagramTransport, remote: tuple[str, int]) -> None:
        self.protocol = type("Protocol", (), {"transport": transport})()
        self.remote_addr = remote


class _Wire:
    """A listener's connection as after ICE and DTLS: an SRTP session and a nominated pair."""

    def __init__(self, pair: _Pair) -> None:
        self.session = Session(Policy(os.urandom(30), Policy.SSRC_ANY_OUTBOUND))
        self.nominated = {1: pair}

    def srtp(self) -> Session:
        return self.session

    def pair(self) -> object:
        return self.nominated[1]

    selected = staticmethod(Wire.selected)


class _Unsent(Batch):
    def send(self) -> list[int]:
        self._entries, self._routes, self._indexes, self._failed = [], [], [], []
        self._count = 0
        return []


async def measure(listeners: int, packets: int) -> dict[str, float]:
    loop = asyncio.get_running_loop()
    sink, _ = await loop.create_datagram_endpoint(
        asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0)
    )
    to = sink.get_extra_info("sockname")
    connections, transports, fanout = [], [sink], []
    for _ in range(listeners):
        out, _ = await loop.create_datagram_endpoint(
            asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0)
        )
        transports.append(out)
        pc = RTCPeerConnection()
        connections.append(pc)
        sender = pc.addTransceiver("audio", direction="sendonly").sender
        listener = DirectListener(OutboundRtp.starting(sender, OPUS), Wire.of(sender))
        listener.wire = cast(Wire, _Wire(_Pair(out, to)))
        fanout.append(listener)
    payload = os.urandom(160)  # a 64 kbit/s Opus frame
    results: dict[str, float] = {}
    tick = 0
    native = NativeSend()
    for listener in fanout:
        native.add(listener)
    started = time.process_time()
    for _ in range(packets):
        native.send_program(payload, 960 * tick)
        tick += 1
    results["C loop"] = (time.process_time() - started) / packets / listeners * 1e6
    native.close()
    for name in ("sendmmsg", "sendto", "not sent"):
        direct = DirectSend(sendmmsg=name == "sendmmsg")
        if name == "not sent":
            cast(Any, direct)._batch = _Unsent(sendmmsg=False)
        started = time.process_time()
        for _ in range(packets):
            direct.send(fanout, payload, 960 * tick)
            tick += 1
        results[name] = (time.process_time() - started) / packets / listeners * 1e6
    for pc in connections:
        await pc.close()
    for transport in transports:
        transport.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--listeners", type=int, default=800)
    parser.add_argument("--packets", type=int, default=200)
    args = parser.parse_args()
    raise_fd_limit()
    load = os.getloadavg()
    results = asyncio.run(measure(args.listeners, args.packets))
    for name, micros in results.items():
        print(f"{name}: {micros:.1f} µs of CPU per listener per packet")
    print(f"load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}")


if __name__ == "__main__":
    main()
