"""A tick's datagrams to every listener, sent together.

Each listener's packets leave from the socket of its selected ICE pair (every connection has its
own), so the browser sees them come from the address it checked. A `Batch` collects one tick's
datagrams and sends them in one call into the C helper (`_sendmmsg.c`: sendmmsg, one system
call per run of datagrams on the same socket, no Python per datagram), or, where the helper was
not built, with socket.sendto one by one. A pair whose transport is not a plain socket (a TURN
allocation) gets its datagrams through that transport's sendto.

A datagram that cannot go now (a full socket buffer) is dropped, never queued: it is live audio,
and the receiver's jitter buffer copes with a loss better than with a late burst.
"""

from __future__ import annotations

import asyncio
import importlib
import socket
import struct
from dataclasses import dataclass
from types import ModuleType


def _helper() -> ModuleType | None:
    try:
        return importlib.import_module("parley.media._sendmmsg")
    except ImportError:  # not Linux, or built without a compiler: socket.sendto instead
        return None


_sendmmsg = _helper()


def sendmmsg_built() -> bool:
    return _sendmmsg is not None


class SocketLike:
    """What a datagram transport's `socket` extra is (asyncio's TransportSocket): fileno() is -1
    once asyncio closed the socket, so a number reused by a newer socket is never written to."""

    family: int

    def fileno(self) -> int:
        raise NotImplementedError


@dataclass(frozen=True)
class Route:
    """Where one listener's datagrams go."""

    transport: asyncio.DatagramTransport
    address: tuple[str, int]
    # None: not a plain socket (a TURN allocation), or an address that is not an IP literal.
    sock: SocketLike | None
    sockaddr: bytes

    @classmethod
    def of(cls, transport: asyncio.DatagramTransport, address: tuple[str, int]) -> Route:
        sock = transport.get_extra_info("socket")
        try:
            packed = pack_sockaddr(sock.family, address) if sock is not None else b""
        except (OSError, ValueError):
            sock, packed = None, b""
        return cls(transport, address, sock, packed)

    def open(self) -> bool:
        return not self.transport.is_closing()


def pack_sockaddr(family: int, address: tuple[str, int]) -> bytes:
    """The kernel's struct sockaddr_in or sockaddr_in6 for an IP literal and port (Linux)."""
    host, port = address
    if family == socket.AF_INET:
        return (
            struct.pack("=H", family) + struct.pack("!H", port) + socket.inet_aton(host) + bytes(8)
        )
    if family == socket.AF_INET6:
        ip = socket.inet_pton(socket.AF_INET6, host)
        return struct.pack("=H", family) + struct.pack("!HI", port, 0) + ip + struct.pack("=I", 0)
    raise ValueError(f"not an IP socket family: {family}")


class Batch:
    """One tick's datagrams. `add` returns the datagram's index; `send` returns the indexes of
    those that were not sent."""

    def __init__(self, *, sendmmsg: bool | None = None) -> None:
        """`sendmmsg`: batch with the C helper (None: whenever it is built)."""
        if sendmmsg is None:
            sendmmsg = _sendmmsg is not None
        if sendmmsg and _sendmmsg is None:
            raise RuntimeError("parley.media._sendmmsg is not built (pip install -e .)")
        self.sendmmsg = sendmmsg
        self._entries: list[tuple[int, bytes, bytes]] = []
        self._routes: list[Route] = []
        self._indexes: list[int] = []  # the index add() returned, of each entry
        self._count = 0
        self._failed: list[int] = []

    def __len__(self) -> int:
        return self._count

    def add(self, route: Route, data: bytes) -> int:
        index = self._count
        self._count += 1
        sock = route.sock
        if sock is None:
            try:
                route.transport.sendto(data, route.address)
            except OSError:
                self._failed.append(index)
            return index
        fd = sock.fileno()
        if fd < 0:
            self._failed.append(index)  # closed since the route was looked up
        else:
            self._entries.append((fd, route.sockaddr, data))
            self._routes.append(route)
            self._indexes.append(index)
        return index

    def send(self) -> list[int]:
        entries, failed = self._entries, self._failed
        if entries:
            if self.sendmmsg:
                assert _sendmmsg is not None
                not_sent: list[int] = _sendmmsg.send_batch(entries)
            else:
                not_sent = _send_each(entries, self._routes)
            failed.extend(self._indexes[i] for i in not_sent)
        self._entries, self._routes, self._indexes, self._failed = [], [], [], []
        self._count = 0
        return failed


def _send_each(entries: list[tuple[int, bytes, bytes]], routes: list[Route]) -> list[int]:
    """The fallback: socket.sendto per datagram, on a socket object borrowing the fd."""
    failed = []
    for at, ((fd, _, data), route) in enumerate(zip(entries, routes, strict=True)):
        assert route.sock is not None
        sock = socket.socket(route.sock.family, socket.SOCK_DGRAM, 0, fd)
        try:
            sock.sendto(data, socket.MSG_DONTWAIT, route.address)
        except OSError:
            failed.append(at)
        finally:
            sock.detach()  # the fd stays asyncio's
    return failed
