"""A tick's datagrams, batched: with the C helper (sendmmsg) and with the pure-Python fallback
(socket.sendto), every datagram reaches its own destination from its own socket, in order, and
one that cannot go is reported by index without keeping the others from going."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from parley.media import datagrams
from parley.media.datagrams import Batch, Route


@pytest.fixture(params=["sendmmsg", "sendto"])
def sendmmsg(request: pytest.FixtureRequest) -> bool:
    if request.param == "sendmmsg":
        assert datagrams.sendmmsg_built(), "parley.media._sendmmsg is not built: pip install -e ."
    return bool(request.param == "sendmmsg")


class Inbox(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.got: list[tuple[bytes, tuple[str, int]]] = []
        self.arrived = asyncio.Event()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.got.append((data, (addr[0], addr[1])))
        self.arrived.set()

    async def until(self, count: int) -> None:
        async with asyncio.timeout(5):
            while len(self.got) < count:
                self.arrived.clear()
                await self.arrived.wait()


@dataclass
class Endpoints:
    senders: list[asyncio.DatagramTransport] = field(default_factory=list)
    receivers: list[tuple[Inbox, tuple[str, int]]] = field(default_factory=list)


async def _endpoints(host: str, senders: int, receivers: int) -> Endpoints:
    loop = asyncio.get_running_loop()
    made = Endpoints()
    for _ in range(senders):
        transport, _ = await loop.create_datagram_endpoint(
            asyncio.DatagramProtocol, local_addr=(host, 0)
        )
        made.senders.append(transport)
    for _ in range(receivers):
        transport, inbox = await loop.create_datagram_endpoint(Inbox, local_addr=(host, 0))
        made.receivers.append((inbox, transport.get_extra_info("sockname")[:2]))
        made.senders.append(transport)  # closed with the others
    return made


@pytest.fixture
async def ipv4() -> AsyncIterator[Endpoints]:
    made = await _endpoints("127.0.0.1", 2, 2)
    yield made
    for transport in made.senders:
        transport.close()


def _source(transport: asyncio.DatagramTransport) -> tuple[str, int]:
    host, port = transport.get_extra_info("sockname")[:2]
    return host, port


async def test_each_datagram_reaches_its_destination_from_its_own_socket_in_order(
    ipv4: Endpoints, sendmmsg: bool
) -> None:
    (a, b), ((inbox_x, x), (inbox_y, y)) = ipv4.senders[:2], ipv4.receivers
    batch = Batch(sendmmsg=sendmmsg)
    # Two runs on socket a (one call each with sendmmsg), one datagram on b between them.
    plan = [(a, x, b"a1"), (a, y, b"a2"), (a, x, b"a3"), (b, x, b"b1"), (a, y, b"a4")]
    indexes = [batch.add(Route.of(sock, to), data) for sock, to, data in plan]
    assert indexes == [0, 1, 2, 3, 4] and len(batch) == 5
    assert batch.send() == []
    await inbox_x.until(3)
    await inbox_y.until(2)
    assert inbox_x.got == [(b"a1", _source(a)), (b"a3", _source(a)), (b"b1", _source(b))]
    assert inbox_y.got == [(b"a2", _source(a)), (b"a4", _source(a))]
    assert len(batch) == 0  # ready for the next tick


async def test_a_datagram_that_cannot_go_is_reported_and_the_rest_still_go(
    ipv4: Endpoints, sendmmsg: bool
) -> None:
    a, b = ipv4.senders[:2]
    inbox, x = ipv4.receivers[0]
    batch = Batch(sendmmsg=sendmmsg)
    closed = Route.of(b, x)
    b.close()  # asyncio closes its socket: the route must not write to a reused number
    await asyncio.sleep(0)
    batch.add(Route.of(a, x), b"first")
    batch.add(Route.of(a, x), bytes(70_000))  # larger than UDP allows: EMSGSIZE
    batch.add(closed, b"to nobody")
    batch.add(Route.of(a, x), b"last")
    assert sorted(batch.send()) == [1, 2]
    await inbox.until(2)
    assert [data for data, _ in inbox.got] == [b"first", b"last"]


async def test_ipv6_destinations_are_packed_for_the_kernel(sendmmsg: bool) -> None:
    try:
        made = await _endpoints("::1", 1, 1)
    except OSError as exc:
        pytest.fail(f"this machine has no IPv6 loopback: {exc}")
    try:
        (inbox, to), sender = made.receivers[0], made.senders[0]
        batch = Batch(sendmmsg=sendmmsg)
        batch.add(Route.of(sender, to), b"six")
        assert batch.send() == []
        await inbox.until(1)
        assert inbox.got == [(b"six", _source(sender))]
    finally:
        for transport in made.senders:
            transport.close()


class Relay:
    """A datagram transport that is not a socket (as aioice's TURN allocation)."""

    def __init__(self) -> None:
        self.sent: list[tuple[bytes, tuple[str, int]]] = []

    def get_extra_info(self, name: str, default: object = None) -> object:
        return default

    def sendto(self, data: bytes, addr: tuple[str, int]) -> None:
        self.sent.append((data, addr))

    def is_closing(self) -> bool:
        return False


def test_a_transport_without_a_socket_gets_its_datagrams_through_its_own_sendto(
    sendmmsg: bool,
) -> None:
    relay = Relay()
    route = Route.of(relay, ("127.0.0.1", 3478))  # type: ignore[arg-type]
    assert route.sock is None
    batch = Batch(sendmmsg=sendmmsg)
    batch.add(route, b"relayed")
    assert batch.send() == []
    assert relay.sent == [(b"relayed", ("127.0.0.1", 3478))]


def test_asking_for_sendmmsg_where_it_is_not_built_is_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(datagrams, "_sendmmsg", None)
    assert not Batch().sendmmsg
    with pytest.raises(RuntimeError, match="not built"):
        Batch(sendmmsg=True)


def test_a_hostname_is_not_a_socket_destination() -> None:
    with pytest.raises(OSError):
        datagrams.pack_sockaddr(socket.AF_INET, ("listener.example", 1))
