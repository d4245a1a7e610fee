"""Who gets a space by HLS: listeners past the node's WebRTC listener cap, anyone signed out
(share pages), and nobody once moderation took the space down."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.support.audio import MediaClient
from tests.support.clients import Person, bring_on_stage, http_client
from tests.support.edge import nginx_in_front
from tests.support.moderation import admin, suspend
from tests.support.servers import ServerThread, serve, sqlite_url

pytestmark = pytest.mark.ffmpeg


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[ServerThread]:
    with serve(
        database_url=sqlite_url(tmp_path), hls_segment_seconds=1.0, webrtc_listener_cap=1
    ) as running:
        yield running


async def until_playlist(http: httpx.AsyncClient, url: str, timeout: float = 20) -> str:
    """The live playlist, once it lists a segment."""
    deadline = time.monotonic() + timeout
    while True:
        r = await http.get(url)
        if r.status_code == 200 and "#EXTINF" in r.text:
            return r.text
        assert time.monotonic() < deadline, f"no segment in time: {r.status_code} {r.text}"
        await asyncio.sleep(0.2)


async def test_a_listener_over_the_cap_is_answered_with_the_hls_playlist(
    server: ServerThread,
) -> None:
    host, alice, bob, carol = [
        await Person.sign_up(server.base_url, h) for h in ("host", "alice", "bob", "carol")
    ]
    clients: list[MediaClient] = []
    try:
        sid = (await host.call("POST", "/spaces", 201, json={"title": "Full house"}))["id"]
        for person in (alice, bob, carol):
            await person.call("POST", f"/spaces/{sid}/join", 200)
        await bring_on_stage(host, alice, sid)
        clients.append(await MediaClient.connect(alice, sid, tone=440.0))
        # The cap is one listener: Bob takes the place, Carol is sent to HLS.
        clients.append(await MediaClient.connect(bob, sid))
        offer = clients[1].pc.localDescription  # a receive-only offer, as Carol's would be
        r = await carol.http.post(
            f"/spaces/{sid}/media", json={"sdp": offer.sdp, "type": offer.type}
        )
        assert r.status_code == 503, r.text
        refusal = r.json()
        assert refusal["code"] == "webrtc_listener_cap"
        assert refusal["hls_url"] == f"/api/v1/spaces/{sid}/hls/live.m3u8"
        # ...and the playlist it names plays the stage.
        async with http_client(base_url=server.base_url) as http:
            assert "#EXTINF" in await until_playlist(http, refusal["hls_url"])

        # Bob offering again replaces his own connection: he is not over the cap.
        clients.append(await MediaClient.connect(bob, sid))
        # The stage is never capped: the host connects though the cap is reached.
        clients.append(await MediaClient.connect(host, sid, tone=880.0))

        # Bob hangs up: his place is free for Carol.
        await bob.call("DELETE", f"/spaces/{sid}/media", 204)
        clients.append(await MediaClient.connect(carol, sid))

        async with http_client(base_url=server.base_url) as http:
            scraped = (await http.get("/metrics")).text
        assert re.search(r"^parley_webrtc_listener_cap_refusals_total 1\.0$", scraped, re.M)
        assert re.search(r"^parley_webrtc_listeners 1\.0$", scraped, re.M)
    finally:
        for client in clients:
            await client.close()
        for person in (host, alice, bob, carol):
            await person.close()


async def test_signed_out_people_get_the_share_page_and_the_live_hls(
    server: ServerThread,
) -> None:
    host = await Person.sign_up(server.base_url, "hana", "Hana <Host>")
    alice = await Person.sign_up(server.base_url, "alice")
    singing: MediaClient | None = None
    try:
        title = "Tones & <b>tags</b>"
        sid = (await host.call("POST", "/spaces", 201, json={"title": title}))["id"]
        await alice.call("POST", f"/spaces/{sid}/join", 200)
        await bring_on_stage(host, alice, sid)
        singing = await MediaClient.connect(alice, sid, tone=440.0)
        async with http_client(base_url=server.base_url) as anonymous:
            page = await anonymous.get(f"/s/{sid}", headers={"Accept": "text/html"})
            assert page.status_code == 200
            assert page.headers["content-type"].startswith("text/html")
            html = page.text
            assert '<h1 id="title">Tones &amp; &lt;b&gt;tags&lt;/b&gt;</h1>' in html
            assert "Hana &lt;Host&gt;" in html and "@hana" in html
            assert "@alice" in html and 'id="play"' in html
            assert f'data-playlist="/api/v1/spaces/{sid}/hls/live.m3u8"' in html
            playlist = await until_playlist(anonymous, f"/api/v1/spaces/{sid}/hls/live.m3u8")
            segment = next(line for line in playlist.splitlines() if line.endswith(".ts"))
            r = await anonymous.get(f"/api/v1/spaces/{sid}/hls/{segment}")
            assert r.status_code == 200 and r.headers["content-type"] == "video/mp2t"

            missing = await anonymous.get("/s/nope", headers={"Accept": "text/html"})
            assert missing.status_code == 404 and "space_not_found" in missing.text
            api = await anonymous.get("/s/nope")
            assert api.status_code == 404 and api.json()["code"] == "space_not_found"
    finally:
        if singing is not None:
            await singing.close()
        await host.close()
        await alice.close()


async def ended_ids(client: httpx.AsyncClient) -> list[str]:
    """The ids of the ended spaces anyone is shown."""
    r = await client.get("/api/v1/spaces", params={"state": "ended"})
    assert r.status_code == 200, r.text
    return [space["id"] for space in r.json()]


async def test_a_suspended_hosts_space_is_not_served_signed_in_or_out(
    server: ServerThread,
) -> None:
    moderator = await admin(server, "mod")
    host = await Person.sign_up(server.base_url, "host")
    other = await Person.sign_up(server.base_url, "other")
    singing: MediaClient | None = None
    try:
        sid = (await host.call("POST", "/spaces", 201, json={"title": "Soon gone"}))["id"]
        later = (await other.call("POST", "/spaces", 201, json={"title": "Still fine"}))["id"]
        await other.call("POST", f"/spaces/{later}/end", 200)
        singing = await MediaClient.connect(host, sid, tone=440.0)
        playlist = f"/api/v1/spaces/{sid}/hls/live.m3u8"
        async with http_client(base_url=server.base_url) as anonymous:
            await until_playlist(anonymous, playlist)
            await suspend(moderator, "host")
            # The space ended by moderation: gone for good, page and HLS, for everyone.
            for r in (
                await anonymous.get(playlist),
                await other.http.get(f"/spaces/{sid}/hls/live.m3u8"),
            ):
                assert r.status_code == 410 and r.json()["code"] == "space_removed", r.text
            page = await anonymous.get(f"/s/{sid}", headers={"Accept": "text/html"})
            assert page.status_code == 410 and 'data-code="space_removed"' in page.text
            assert "Soon gone" not in page.text
            assert (await anonymous.get(f"/s/{sid}")).json()["code"] == "space_removed"
            # The API shows no more of it than its page does, signed in or out.
            for r in (
                await anonymous.get(f"/api/v1/spaces/{sid}"),
                await other.http.get(f"/spaces/{sid}"),
            ):
                assert r.status_code == 410 and r.json()["code"] == "space_removed", r.text

            # Ended by its host, a space's page stays (no play button: it is over).
            fine = await anonymous.get(f"/s/{later}", headers={"Accept": "text/html"})
            assert fine.status_code == 200 and "This space is over" in fine.text
            # Its host suspended afterwards: withheld while the suspension lasts.
            await suspend(moderator, "other")
            withheld = await anonymous.get(f"/s/{later}")
            assert withheld.status_code == 404 and withheld.json()["code"] == "space_unavailable"
            api = await anonymous.get(f"/api/v1/spaces/{later}")
            assert api.status_code == 404 and api.json()["code"] == "space_unavailable"
            assert later not in await ended_ids(anonymous)
            await moderator.call(
                "POST", "/admin/accounts/other/unsuspend", 200, json={"reason": "Appeal upheld"}
            )
            back = await anonymous.get(f"/s/{later}", headers={"Accept": "text/html"})
            assert back.status_code == 200 and "Still fine" in back.text
            assert (await anonymous.get(f"/api/v1/spaces/{later}")).json()["title"] == "Still fine"
            assert later in await ended_ids(anonymous)
    finally:
        if singing is not None:
            await singing.close()
        for person in (moderator, host, other):
            await person.close()


HINT = re.compile(r'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg-(\d+)\.(\d+)\.ts"')


@pytest.mark.nginx
async def test_the_shipped_nginx_config_sends_the_node_one_request_per_object(
    tmp_path: Path,
) -> None:
    """Behind deploy/nginx/parley.conf, a crowd asking for the same blocking reload, part,
    expired playlist or expired blocking reload costs the node one request, and gets nothing
    older than a few seconds; a query the node does not read neither splits the cache nor
    passes it."""
    with (
        serve(
            database_url=sqlite_url(tmp_path), hls_segment_seconds=1.0, hls_part_seconds=0.5
        ) as server,
        nginx_in_front(server.port) as edge,
    ):
        host = await Person.sign_up(server.base_url, "host")
        singing: MediaClient | None = None
        try:
            sid = (await host.call("POST", "/spaces", 201, json={"title": "Edge"}))["id"]
            singing = await MediaClient.connect(host, sid, tone=440.0)
            hls = f"/api/v1/spaces/{sid}/hls/"
            limits = httpx.Limits(max_connections=200)
            async with http_client(base_url=edge.base_url, limits=limits) as http:
                playlist = await until_playlist(http, hls + "live.m3u8")
                hint = HINT.search(playlist)
                assert hint is not None, playlist

                # Fifty listeners at the live edge: the next reload, then the part it lists.
                reload = f"{hls}live.m3u8?_HLS_msn={int(hint[1])}&_HLS_part={int(hint[2])}"
                before = len(edge.origin_requests())
                answers = await asyncio.gather(*(http.get(reload) for _ in range(50)))
                assert {r.status_code for r in answers} == {200}
                assert len({r.text for r in answers}) == 1
                part = f"seg-{hint[1]}.{hint[2]}.ts"
                assert f'URI="{part}"' in answers[0].text
                parts = await asyncio.gather(*(http.get(hls + part) for _ in range(50)))
                assert {r.status_code for r in parts} == {200}
                sent = edge.origin_requests()[before:]
                assert sent.count(reload) == 1, sent
                assert sent.count(hls + part) == 1, sent

                # Another order, a player's own parameter, a cache buster: the same object,
                # and the node is asked only what it reads.
                again = await http.get(
                    f"{hls}live.m3u8?_HLS_part={int(hint[2])}&t=1&_HLS_msn={int(hint[1])}"
                )
                # EXPIRED proves the same key as well as HIT: the entry was found, only stale
                # (a loaded machine (CI, 610 s run) spent its second of cache time meanwhile).
                # Then the node answered the reload afresh, its playlist further on by now.
                cached = again.headers["x-cache-status"]
                assert cached in {"HIT", "EXPIRED"}
                if cached == "HIT":
                    assert again.text == answers[0].text
                else:
                    assert again.status_code == 200 and again.text.startswith("#EXTM3U")
                busted = await http.get(f"{hls}{part}?nocache=42")
                assert busted.headers["x-cache-status"] == "HIT"
                # What the node refuses is still refused, with its code.
                bad = await http.get(f"{hls}live.m3u8?_HLS_msn=x1")
                assert bad.status_code == 400 and bad.json()["code"] == "hls_bad_directive"
                alone = await http.get(f"{hls}live.m3u8?_HLS_part=1")
                assert alone.status_code == 400 and alone.json()["code"] == "hls_bad_directive"

                # The plain playlist expired (1 s; nginx counts whole seconds, so 2 at most): a
                # crowd asking for it at once costs the node one request; the others get the
                # copy of a second ago meanwhile. A crowd that a loaded machine spreads over more
                # than a second may see the copy expire again: one request per second, not 50.
                # Asked for now: a loaded machine took more than the 5 s that nginx keeps an
                # entry nobody asks for over what came before (four workers: MISS for some).
                assert (await http.get(hls + "live.m3u8")).status_code == 200
                await asyncio.sleep(2.1)
                before = len(edge.origin_requests())
                began = time.monotonic()
                crowd = await asyncio.gather(*(http.get(hls + "live.m3u8") for _ in range(50)))
                took = time.monotonic() - began
                assert {r.status_code for r in crowd} == {200}
                sent = edge.origin_requests()[before:]
                assert 1 <= sent.count(hls + "live.m3u8") <= 1 + int(took), (took, sent)
                assert {r.headers["x-cache-status"] for r in crowd} <= {
                    "EXPIRED",
                    "UPDATING",
                    "HIT",
                }

                # Nobody asked for the playlist for 5 s: nginx dropped it (inactive=5s), and a
                # crowd arriving now waits for the node's answer instead of getting a copy of
                # seconds ago; so does a crowd that fell behind asking for a blocking reload
                # whose answer expired (6 s). One request each reaches the node, which answers
                # at once with the live edge.
                await asyncio.sleep(7.1)
                before = len(edge.origin_requests())
                joining = [http.get(hls + "live.m3u8") for _ in range(25)]
                late = await asyncio.gather(*joining, *(http.get(reload) for _ in range(25)))
                assert {r.status_code for r in late} == {200}
                sent = edge.origin_requests()[before:]
                assert sent.count(hls + "live.m3u8") == 1 and sent.count(reload) == 1, sent
                assert "UPDATING" not in {r.headers["x-cache-status"] for r in late}
                for r in late:
                    newest = HINT.search(r.text)
                    assert newest is not None
                    assert (int(newest[1]), int(newest[2])) > (int(hint[1]), int(hint[2]) + 4)
        finally:
            if singing is not None:
                await singing.close()
            await host.close()


# nginx counts the requests for a cache entry in a 10-bit field (`uses`, ngx_http_cache.h):
# past 1,024 requests for an entry still on its way it wraps to 0, below proxy_cache_min_uses.
CROWD = 2100


Streams = list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]


async def _open_crowd(port: int, crowd: int) -> Streams:
    """`crowd` connections to the edge, opened ahead of what they will ask: a loaded machine
    took seconds to open them all, by when a part asked for beforehand was long out."""
    streams: Streams = []
    for start in range(0, crowd, 200):
        streams += await asyncio.gather(
            *(asyncio.open_connection("127.0.0.1", port) for _ in range(start, start + 200))
        )
    return streams[:crowd]


async def _crowd_get(streams: Streams, path: str) -> list[tuple[int, bytes]]:
    """The same GET sent on every connection at once: as many listeners asking for the next
    blocking reload in the same instant."""
    request = f"GET {path} HTTP/1.1\r\nHost: edge\r\nConnection: close\r\n\r\n".encode()
    for _, writer in streams:
        writer.write(request)

    async def answer(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> tuple[int, bytes]:
        raw = await reader.read()
        writer.close()
        head, _, body = raw.partition(b"\r\n\r\n")
        return int(head.split(b" ", 2)[1]), body

    return await asyncio.gather(*(answer(r, w) for r, w in streams))


@pytest.mark.nginx
async def test_a_crowd_of_thousands_costs_the_node_one_request_per_blocking_reload(
    tmp_path: Path,
) -> None:
    """2,100 listeners asking nginx for the same blocking reload before the part exists: one
    request reaches the node, all get its answer (nginx's use counter wrapped past 1,024 and
    sent the 1,024th and 2,048th to the node, uncached, when the config let it)."""
    with (
        serve(
            database_url=sqlite_url(tmp_path), hls_segment_seconds=1.0, hls_part_seconds=0.5
        ) as server,
        nginx_in_front(server.port, connections=2 * CROWD + 100) as edge,
    ):
        host = await Person.sign_up(server.base_url, "host")
        singing: MediaClient | None = None
        try:
            sid = (await host.call("POST", "/spaces", 201, json={"title": "Crowd"}))["id"]
            singing = await MediaClient.connect(host, sid, tone=440.0)
            hls = f"/api/v1/spaces/{sid}/hls/"
            port = int(edge.base_url.rsplit(":", 1)[1])
            async with http_client(base_url=server.base_url) as node:
                await until_playlist(node, hls + "live.m3u8")
                crowd = await _open_crowd(port, CROWD)
                playlist = (await node.get(hls + "live.m3u8")).text
            hint = HINT.search(playlist)
            assert hint is not None, playlist
            # Three parts past the hint (two per segment): the node holds it a second or more,
            # time for the whole crowd to arrive while nginx has no answer yet.
            msn, part = divmod(2 * int(hint[1]) + int(hint[2]) + 3, 2)
            reload = f"{hls}live.m3u8?_HLS_msn={msn}&_HLS_part={part}"
            answers = await _crowd_get(crowd, reload)
            assert {status for status, _ in answers} == {200}
            assert len({body for _, body in answers}) == 1
            assert f'URI="seg-{msn}.{part}.ts"' in answers[0][1].decode()
            sent = edge.origin_requests()
            assert sent.count(reload) == 1, sent
        finally:
            if singing is not None:
                await singing.close()
            await host.close()
