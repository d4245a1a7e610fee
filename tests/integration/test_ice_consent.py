"""ICE consent (RFC 7675) between a peer and the server on this machine: the server answers the
peer's consent requests, each one a sign of life, and asks none of its own
(aiortc_internals.answer_consent_only); the peer's consent holds all along."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aioice import Connection, ice

from parley.media.aiortc_internals import answer_consent_only

INTERVAL = 0.05  # aioice's 5 s, shortened so that a second holds about twenty rounds


@pytest.fixture
async def pair(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[Connection, Connection]]:
    monkeypatch.setattr(ice, "CONSENT_INTERVAL", INTERVAL)
    peer = Connection(ice_controlling=True, use_ipv6=False)
    server = Connection(ice_controlling=False, use_ipv6=False)
    yield peer, server
    await asyncio.gather(peer.close(), server.close())


async def test_the_server_answers_consent_asks_none_and_hears_each_request(
    pair: tuple[Connection, Connection],
) -> None:
    peer, server = pair
    signs: list[None] = []
    answer_consent_only(server, lambda: signs.append(None))
    await asyncio.gather(peer.gather_candidates(), server.gather_candidates())
    for one, other in ((peer, server), (server, peer)):
        for candidate in other.local_candidates:
            await one.add_remote_candidate(candidate)
        await one.add_remote_candidate(None)
        one.remote_username, one.remote_password = other.local_username, other.local_password
    await asyncio.gather(peer.connect(), server.connect())
    asked_of = {"peer": _count_requests(peer), "server": _count_requests(server)}
    signs.clear()
    await asyncio.sleep(20 * INTERVAL)
    assert asked_of["peer"] == []  # the server asked nothing
    assert len(asked_of["server"]) >= 10  # the peer went on asking...
    assert len(signs) == len(asked_of["server"])  # ...and each request was a sign of life
    # ...and was answered: its consent never lapsed, so it still sends.
    await peer.sendto(b"\x80still here", 1)
    assert await asyncio.wait_for(server.recvfrom(), 1) == (b"\x80still here", 1)


def _count_requests(connection: Connection) -> list[None]:
    """One item per authenticated request the connection gets from now on."""
    got: list[None] = []
    check = connection.check_incoming

    def counted(message: Any, addr: tuple[str, int], protocol: Any) -> None:
        got.append(None)
        check(message, addr, protocol)

    connection.check_incoming = counted  # type: ignore[method-assign]
    return got
