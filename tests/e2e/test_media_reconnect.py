"""The web client's media module (/js/media.js) against a real node, when the node closes the
connection (as it drains, or lets a space go to another node), and when it goes silent (killed,
its machine lost). The node's DTLS close reaches the browser at once; a silent node says nothing.
Chromium's own checks would call the connection lost only 7 to 8 s later (then the module's 2 s
grace), all of it silence for the listener."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

from playwright.async_api import Page

from bench.common import server_process
from tests.e2e.browser import LaunchBrowser, open_app
from tests.support.clients import Person
from tests.support.servers import ServerThread, wait_until


async def ada_listening(
    base_url: str, launch: LaunchBrowser, tone: Path, title: str
) -> tuple[Person, Person, str, Page]:
    """Ada in a live space of the host's, connected through the module in a page that counts
    the connections it makes."""
    host, ada = [await Person.sign_up(base_url, name) for name in ("host", "ada")]
    sid: str = (await host.call("POST", "/spaces", 201, json={"title": title}))["id"]
    await ada.call("POST", f"/spaces/{sid}/join", 200)
    page = await open_app(await launch(tone), base_url)
    await page.evaluate(
        """async ([spaceId, token, accountId]) => {
          const { liveAudio } = await import("/js/media.js");
          window.made = [];
          window.live = liveAudio({ spaceId, token, accountId,
            onChange: ({ connection }) => made.push(connection) });
          await live.ready;
        }""",
        [sid, ada.token, ada.id],
    )
    await wait_until(lambda: connected(page, 1), timeout=10)
    return host, ada, sid, page


async def connected(page: Page, count: int) -> bool:
    return bool(
        await page.evaluate(
            """(count) => made.length === count
                 && live.connection === made[count - 1]
                 && live.connection.pc.connectionState === "connected" """,
            count,
        )
    )


async def test_a_connection_the_node_closes_is_made_again_at_once(
    server: ServerThread, launch: LaunchBrowser, tones: dict[int, Path]
) -> None:
    host, ada, sid, page = await ada_listening(server.base_url, launch, tones[440], "Closed")

    # As a draining node closes every connection it holds.
    server.call(server.node.media._close_room(sid))
    # Well before the browser's own checks would have given the first one up (9.6-10.3 s here).
    await wait_until(lambda: connected(page, 2), timeout=4)
    assert list(server.node.media.rooms[sid].room.peers) == [ada.id]

    await page.evaluate("live.close()")
    for person in (host, ada):
        await person.close()


async def test_a_connection_replaced_for_a_new_role_is_made_once(
    server: ServerThread, launch: LaunchBrowser, tones: dict[int, Path]
) -> None:
    """Offered for the stage, the node answers and closes the listener's connection it replaces,
    before the new one is up: that is no loss to make good with yet another connection."""
    host, ada, sid, page = await ada_listening(server.base_url, launch, tones[440], "Promoted")

    await ada.call("POST", f"/spaces/{sid}/hand", 204)
    await host.call("POST", f"/spaces/{sid}/speakers/ada", 204)
    await wait_until(lambda: connected(page, 2), timeout=10)
    assert await page.evaluate("live.connection.send")
    await asyncio.sleep(2)  # a retry would have come by now (first after 0.5 s)
    assert await connected(page, 2)

    await page.evaluate("live.close()")
    for person in (host, ada):
        await person.close()


async def test_a_node_gone_silent_is_left_before_the_browser_would(
    launch: LaunchBrowser, tones: dict[int, Path]
) -> None:
    """A node that stops sends nothing more, audio or ICE answers, and closes nothing: the
    module's watch (media-watch.js) leaves its connection within SILENT_MS (4 s) of the last
    packet, where Chromium's checks take 7.8 s and the module's grace 2 s more (9.6-9.8 s here),
    and offers again; the node back, it is connected again. The node was stopped longer than
    its own silence limit (3 s here): running again, it finds the old connection silent and
    hangs it up, and Ada, her event socket open, is still in the space for the new offer.
    (Before, she was made to leave and the offer was refused 403 not_in_space.)"""
    with server_process(PARLEY_MEDIA_SILENCE_SECONDS="3") as node:
        host, ada, sid, page = await ada_listening(node.base, launch, tones[440], "Frozen")
        os.kill(node.pid, signal.SIGSTOP)  # as a machine lost: no FIN, no DTLS close
        stopped = time.monotonic()
        try:
            await wait_until(lambda: page.evaluate("live.connection === null"), timeout=9)
            left_after = time.monotonic() - stopped
        finally:
            os.kill(node.pid, signal.SIGCONT)
        assert left_after < 6.5, f"left after {left_after:.1f} s"
        # The offer it made meanwhile is answered now: connected again, still in the space.
        await wait_until(lambda: connected(page, 2), timeout=10)
        listeners = await host.call("GET", f"/spaces/{sid}/listeners", 200)
        assert [p["handle"] for p in listeners] == ["ada"]
        await page.evaluate("live.close()")
        for person in (host, ada):
            await person.close()
