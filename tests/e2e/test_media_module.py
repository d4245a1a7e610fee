"""The browser media module (/js/media.js) on its own, in real Chromium.

The server's media endpoint is replaced by a stand-in in the page (probe.js: a second
RTCPeerConnection that echoes a sender's audio, or plays a tone to a receiver), so these tests pin
down the module's side of the contract: the request it makes, when it takes the microphone, and
how it follows the account's role through the real event socket.
"""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path
from typing import Any

from playwright.async_api import Page

from tests.e2e.browser import LaunchBrowser, analyse, describe, heard, levels_now, open_app, silent
from tests.support.clients import Person
from tests.support.servers import ServerThread, wait_until


async def levels_of(page: Page, stream_expression: str) -> dict[str, Any]:
    await analyse(page, stream_expression)
    await asyncio.sleep(1.0)
    return await levels_now(page)


async def test_a_speaker_sends_its_mic(
    server: ServerThread, launch: LaunchBrowser, tones: dict[int, Path]
) -> None:
    page = await open_app(await launch(tones[440]), server.base_url)
    await page.evaluate(
        """async () => {
          parleyProbe.fakeMediaServer();
          const { connectMedia } = await import("/js/media.js");
          window.media = await connectMedia({ spaceId: "s1", token: "t0k", send: true });
        }"""
    )
    assert await page.evaluate("parleyProbe.getUserMediaCalls") == 1
    [request] = await page.evaluate("parleyProbe.mediaRequests")
    assert request["url"] == "/api/v1/spaces/s1/media"
    assert request["headers"]["authorization"] == "Bearer t0k"
    assert request["offer"]["type"] == "offer"
    assert "a=sendrecv" in request["offer"]["sdp"]
    assert "a=candidate" in request["offer"]["sdp"]  # gathered before sending: no trickle

    # The stand-in echoes what it receives: the 440 Hz the fake mic plays comes back.
    levels = await levels_of(page, "media.remoteStream")
    print(f"echoed: {describe(levels)}")
    assert heard(levels, 440) and silent(levels, 880), levels
    bytes_ = await page.evaluate("parleyProbe.audioBytes(media.pc)")
    assert bytes_["sent"] > 0 and bytes_["received"] > 0

    await page.evaluate("media.close()")
    assert await page.evaluate("media.pc.connectionState") == "closed"
    assert await page.evaluate("media.micTrack.readyState") == "ended"


async def test_a_listener_only_receives(
    server: ServerThread, launch: LaunchBrowser, tones: dict[int, Path]
) -> None:
    # Even with a microphone that plays a tone, a listener's page never asks for it.
    page = await open_app(await launch(tones[440]), server.base_url)
    await page.evaluate(
        """async () => {
          parleyProbe.fakeMediaServer({ toneHz: 880 });
          const { connectMedia } = await import("/js/media.js");
          window.media = await connectMedia({ spaceId: "s1", token: "t0k" });
        }"""
    )
    [request] = await page.evaluate("parleyProbe.mediaRequests")
    assert "a=recvonly" in request["offer"]["sdp"]
    levels = await levels_of(page, "media.remoteStream")
    assert heard(levels, 880) and silent(levels, 440), levels
    assert await page.evaluate("parleyProbe.getUserMediaCalls") == 0
    bytes_ = await page.evaluate("parleyProbe.audioBytes(media.pc)")
    assert bytes_ == {"sent": 0, "received": bytes_["received"]} and bytes_["received"] > 0


async def ada_in_a_space(server: ServerThread, title: str) -> tuple[Person, Person, str]:
    host = await Person.sign_up(server.base_url, "host")
    ada = await Person.sign_up(server.base_url, "ada")
    sid: str = (await host.call("POST", "/spaces", 201, json={"title": title}))["id"]
    await ada.call("POST", f"/spaces/{sid}/join", 200)
    return host, ada, sid


async def test_the_connection_follows_the_role(
    server: ServerThread, launch: LaunchBrowser, tones: dict[int, Path]
) -> None:
    host, ada, sid = await ada_in_a_space(server, "Roles")
    page = await open_app(await launch(tones[440]), server.base_url)
    await page.evaluate(
        """async ([spaceId, token, accountId]) => {
          parleyProbe.fakeMediaServer();
          const { liveAudio } = await import("/js/media.js");
          window.changes = [];
          window.live = liveAudio({ spaceId, token, accountId,
            onChange: ({ connection, role, muted }) =>
              changes.push({ send: connection.send, role, muted }) });
          await live.ready;
        }""",
        [sid, ada.token, ada.id],
    )

    async def changes() -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = await page.evaluate("changes")
        return result

    async def mic_enabled() -> bool:
        return bool(await page.evaluate("live.connection.micTrack.enabled"))

    assert await changes() == [{"send": False, "role": "listener", "muted": True}]
    assert await page.evaluate("parleyProbe.getUserMediaCalls") == 0

    # Promoted: a new connection that sends, made in the same page; it enters the stage muted.
    await ada.call("POST", f"/spaces/{sid}/hand", 204)
    await host.call("POST", f"/spaces/{sid}/speakers/ada", 204)
    await wait_until(lambda: changes_count(page, 2))
    assert (await changes())[1] == {"send": True, "role": "speaker", "muted": True}
    assert await page.evaluate("parleyProbe.getUserMediaCalls") == 1
    assert not await mic_enabled()
    await ada.call("POST", f"/spaces/{sid}/unmute", 204)
    await wait_until(mic_enabled)
    await host.call("POST", f"/spaces/{sid}/mute/ada", 204)
    await wait_until(lambda: not_(mic_enabled))
    # The old connection is closed once the new one is up.
    assert await page.evaluate("parleyProbe.serverPeers.length") == 2

    # Back to the audience: receive-only again, and the mic is released.
    await ada.call("DELETE", f"/spaces/{sid}/speakers/ada", 204)
    await wait_until(lambda: changes_count(page, 3))
    assert (await changes())[2]["send"] is False
    assert await page.evaluate("parleyProbe.getUserMediaCalls") == 1

    await page.evaluate("live.close()")
    for person in (host, ada):
        await person.close()


async def changes_count(page: Page, n: int) -> bool:
    return int(await page.evaluate("changes.length")) >= n


async def not_(check: Any) -> bool:
    return not await check()


async def test_a_connection_that_never_comes_up_is_replaced(
    server: ServerThread, launch: LaunchBrowser, tones: dict[int, Path]
) -> None:
    """The node that answered went away before the connection came up: nothing answers the
    browser's checks, which it would call "failed" only half a minute or more later. The page
    offers again once the connection is not up within `connectWithinMs`, and hears the space."""
    host, ada, sid = await ada_in_a_space(server, "Gone")
    page = await open_app(await launch(tones[440]), server.base_url)
    await page.evaluate(
        """async ([spaceId, token, accountId]) => {
          parleyProbe.fakeMediaServer({ unreachable: 1 });
          const { liveAudio } = await import("/js/media.js");
          window.live = liveAudio({ spaceId, token, accountId, connectWithinMs: 1500 });
          window.first = await live.ready;
        }""",
        [sid, ada.token, ada.id],
    )

    async def connected_again() -> bool:
        return bool(
            await page.evaluate(
                "live.connection !== null && live.connection !== first"
                " && live.connection.pc.connectionState === 'connected'"
            )
        )

    assert await page.evaluate("first.pc.connectionState") != "connected"
    await wait_until(connected_again, timeout=10)
    assert await page.evaluate("parleyProbe.mediaRequests.length") == 2
    assert await page.evaluate("first.pc.connectionState") == "closed"
    levels = await levels_of(page, "live.connection.remoteStream")
    assert heard(levels, 880), levels

    await page.evaluate("live.close()")
    for person in (host, ada):
        await person.close()


async def test_an_offer_refused_for_now_is_made_again_when_the_server_said(
    server: ServerThread, launch: LaunchBrowser, tones: dict[int, Path]
) -> None:
    """Too many offers (429) or a node draining (503) is no verdict on being in the space: the
    page offers again, after the Retry-After it was given (longer than its own first retry),
    and hears the space. (It once took a 429 for a refusal and stayed without audio.)"""
    host, ada, sid = await ada_in_a_space(server, "Later")
    page = await open_app(await launch(tones[440]), server.base_url)
    await page.evaluate(
        """async ([spaceId, token, accountId]) => {
          parleyProbe.fakeMediaServer({ refusals: [
            { status: 429, code: "rate_limited", title: "Too many requests", retry_after: 2 },
            { status: 503, code: "node_draining", title: "Shutting down", retry_after: 1 },
          ] });
          const { liveAudio } = await import("/js/media.js");
          window.live = liveAudio({ spaceId, token, accountId, onError: () => {} });
          const late = new Promise((_, reject) => setTimeout(reject, 10000, "not connected"));
          await Promise.race([live.ready, late]);
        }""",
        [sid, ada.token, ada.id],
    )
    at = await page.evaluate("parleyProbe.mediaRequests.map((r) => r.at)")
    assert len(at) == 3
    waited = [(later - earlier) / 1000 for earlier, later in itertools.pairwise(at)]
    assert waited[0] >= 2.0 and waited[1] >= 1.0, waited
    levels = await levels_of(page, "live.connection.remoteStream")
    assert heard(levels, 880), levels

    await page.evaluate("live.close()")
    for person in (host, ada):
        await person.close()
