"""A node told to stop (SIGTERM, or `parley admin drain`, which sends it) refuses media offers
from the signal on: a connection it answered would close with it a moment later, and a browser
whose connection never came up waits out its connect timeout before offering again. Refused, it
offers again at once, and lands on a node that stays. What is already connected plays on until
the node hands its spaces over."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest
from aiortc import RTCPeerConnection

from parley.core.errors import Unavailable
from tests.support.audio import MediaClient
from tests.support.clients import Person, bring_on_stage
from tests.support.servers import serve, sqlite_url, wait_until

A_TONE = 440.0


async def an_offer() -> str:
    pc = RTCPeerConnection()
    pc.addTransceiver("audio", direction="recvonly")
    await pc.setLocalDescription(await pc.createOffer())
    sdp = pc.localDescription.sdp
    await pc.close()
    return sdp


async def test_a_node_told_to_stop_refuses_new_offers_and_plays_on_what_it_has(
    tmp_path: Path,
) -> None:
    with serve(database_url=sqlite_url(tmp_path)) as server:
        host, ada, lena, late = [
            await Person.sign_up(server.base_url, name) for name in ("host", "ada", "lena", "late")
        ]
        sid = (await host.call("POST", "/spaces", 201, json={"title": "Last call"}))["id"]
        for person in (ada, lena, late):
            await person.call("POST", f"/spaces/{sid}/join", 200)
        await bring_on_stage(host, ada, sid)
        speaking = await MediaClient.connect(ada, sid, tone=A_TONE)
        listening = await MediaClient.connect(lena, sid)
        try:
            await listening.hearing.until("hears", A_TONE)

            async def told_to_stop() -> None:
                server.node.drain_begins()  # what the server does with the signal

            server.call(told_to_stop())
            sdp = await an_offer()
            for person in (late, ada):  # a listener's offer, and a stage member's
                refused = await person.http.post(
                    f"/spaces/{sid}/media", json={"sdp": sdp, "type": "offer"}
                )
                assert refused.status_code == 503, refused.text
                assert refused.json()["code"] == "node_draining"
                assert refused.headers["retry-after"] == "1"
            # A stage member's offer passed on by another node, when this one is its home.
            with pytest.raises(Unavailable) as refusal:
                server.call(server.node.media.connect_forwarded(ada.id, "s", sid, sdp))
            assert refusal.value.code == "node_draining"
            # Those already connected still hear the stage.
            await asyncio.sleep(0.5)
            await listening.hearing.until("hears", A_TONE)
        finally:
            for client in (speaking, listening):
                await client.close()
            for person in (host, ada, lena, late):
                await person.close()


async def test_the_signal_reaches_the_node_before_the_server_stops(tmp_path: Path) -> None:
    with serve(database_url=sqlite_url(tmp_path)) as server:
        assert not server.node.media.draining
        # As Python runs a signal handler: on the thread of the server's loop, between two steps.
        assert server.loop is not None
        server.loop.call_soon_threadsafe(server.server.handle_exit, signal.SIGTERM, None)

        async def stopping() -> bool:
            return server.server.should_exit

        await wait_until(stopping, timeout=5, interval=0.01)
        assert server.node.media.draining
