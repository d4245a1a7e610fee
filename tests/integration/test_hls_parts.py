"""LL-HLS through a real server: the playlist lists the parts of its latest segments, each a
playable MPEG-TS holding the same AAC frames as its segment; a blocking reload returns once the
part it asks for exists; directives the spec refuses get 400."""

from __future__ import annotations

import asyncio
import io
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path

import av
import httpx
import pytest

from tests.support.audio import MediaClient
from tests.support.clients import Person, http_client
from tests.support.media_files import ffprobe, parse_playlist
from tests.support.servers import ServerThread, serve, sqlite_url

pytestmark = pytest.mark.ffmpeg

PART_TARGET = 24 * 1024 / 48_000  # 0.5 s asked, whole AAC frames: 0.512 s
PART = re.compile(r'#EXT-X-PART:DURATION=([\d.]+),URI="(seg-(\d+)\.(\d+)\.ts)",INDEPENDENT=YES')


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[ServerThread]:
    with serve(
        database_url=sqlite_url(tmp_path), hls_segment_seconds=2.0, hls_part_seconds=0.5
    ) as running:
        yield running


@pytest.fixture
async def live(server: ServerThread) -> AsyncIterator[tuple[str, httpx.AsyncClient]]:
    """A space whose host sings; an anonymous HTTP client on its HLS directory."""
    host = await Person.sign_up(server.base_url, "host")
    sid = (await host.call("POST", "/spaces", 201, json={"title": "Parts"}))["id"]
    singing = await MediaClient.connect(host, sid, tone=440.0)
    base = f"{server.base_url}/api/v1/spaces/{sid}/hls/"
    async with http_client(base_url=base, timeout=20) as http:
        try:
            yield sid, http
        finally:
            await singing.close()
            await host.close()


def parts_of(text: str) -> list[tuple[float, str, int, int]]:
    return [(float(d), name, int(s), int(i)) for d, name, s, i in PART.findall(text)]


async def playlist_with_segments(http: httpx.AsyncClient, count: int) -> str:
    deadline = time.monotonic() + 20
    while True:
        r = await http.get("live.m3u8")
        if r.status_code == 200 and len(parse_playlist(r.text)[1]) >= count:
            return r.text
        assert time.monotonic() < deadline, r.text
        await asyncio.sleep(0.2)


def aac_frames(ts: bytes) -> list[bytes]:
    with av.open(io.BytesIO(ts), "r", format="mpegts") as container:
        return [bytes(p) for p in container.demux(audio=0) if p.size]


async def test_the_playlist_lists_playable_parts_of_its_latest_segments(
    server: ServerThread, live: tuple[str, httpx.AsyncClient]
) -> None:
    _, http = live
    text = await playlist_with_segments(http, 2)
    lines = text.splitlines()
    assert "#EXT-X-VERSION:6" in lines
    assert "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.536" in lines
    assert f"#EXT-X-PART-INF:PART-TARGET={PART_TARGET:.5f}" in lines
    assert "#EXT-X-TARGETDURATION:2" in lines
    parts = parts_of(text)
    assert parts, text
    assert all(duration <= PART_TARGET + 1e-6 for duration, *_ in parts)
    # The next part to come is hinted, after every listed one.
    hint = re.search(r'#EXT-X-PRELOAD-HINT:TYPE=PART,URI="seg-(\d+)\.(\d+)\.ts"', text)
    assert hint is not None and lines[-1].startswith("#EXT-X-PRELOAD-HINT")
    assert (int(hint[1]), int(hint[2])) > max((s, i) for *_, s, i in parts)

    # A complete segment's parts hold exactly its AAC frames, in order.
    _, segments, _ = parse_playlist(text)
    name = next(
        n for n, _ in reversed(segments) if any(p[1].startswith(n[:-3] + ".") for p in parts)
    )
    mine = sorted((i, part_name) for _, part_name, s, i in parts if part_name.startswith(name[:-3]))
    assert [i for i, _ in mine] == list(range(len(mine)))
    assert len(mine) == 4  # 2 s in parts of at most 0.512 s
    segment = (await http.get(name)).content
    joined: list[bytes] = []
    for _, part_name in mine:
        r = await http.get(part_name)
        assert r.status_code == 200 and r.headers["content-type"] == "video/mp2t"
        assert r.headers["cache-control"] == "public, max-age=60"
        joined += aac_frames(r.content)
        # Each part stands alone: what a player fetches at the live edge plays by itself.
        path = Path(server.settings.data_dir) / part_name
        path.write_bytes(r.content)
        # Named as MPEG-TS, as the playlist names it: a part of silence is a few TS packets,
        # too few for ffprobe to guess the format from.
        (stream,) = (await ffprobe("-f", "mpegts", "-show_streams", str(path)))["streams"]
        assert (stream["codec_name"], stream["profile"]) == ("aac", "LC")
    assert joined == aac_frames(segment)


async def test_a_blocking_reload_returns_once_the_part_it_asks_for_exists(
    live: tuple[str, httpx.AsyncClient],
) -> None:
    _, http = live
    text = await playlist_with_segments(http, 1)
    *_, sequence, index = max(parts_of(text), key=lambda p: (p[2], p[3]))
    wanted = (sequence, index + 1)
    started = time.monotonic()
    r = await http.get("live.m3u8", params={"_HLS_msn": wanted[0], "_HLS_part": wanted[1]})
    waited = time.monotonic() - started
    assert r.status_code == 200
    # Its own URL, true for good: a cache keeps it three target durations.
    assert r.headers["cache-control"] == "public, max-age=6"
    listed = {(s, i) for *_, s, i in parts_of(r.text)}
    # Either that part, or (the segment ended first) the next segment's first part.
    assert wanted in listed or (sequence + 1, 0) in listed, r.text
    assert waited < 3 * 2.0, waited
    # The preload hint's part is held until it exists, then served.
    hint = re.search(r'PRELOAD-HINT:TYPE=PART,URI="([^"]+)"', r.text)
    assert hint is not None
    part = await http.get(hint[1])
    assert part.status_code == 200 and aac_frames(part.content)
    # A whole segment asked for (no part): held until the playlist lists it.
    _, segments, _ = parse_playlist(r.text)
    next_segment = int(segments[-1][0][4:-3]) + 1
    r = await http.get("live.m3u8", params={"_HLS_msn": next_segment})
    assert f"seg-{next_segment:06d}.ts" in r.text.splitlines()


async def test_directives_the_spec_refuses_get_400(live: tuple[str, httpx.AsyncClient]) -> None:
    _, http = live
    text = await playlist_with_segments(http, 1)
    _, segments, _ = parse_playlist(text)
    last = int(segments[-1][0][4:-3])
    for params, code in (
        ({"_HLS_part": "1"}, "hls_bad_directive"),
        ({"_HLS_msn": "abc"}, "hls_bad_directive"),
        ({"_HLS_msn": "-1"}, "hls_bad_directive"),
        ({"_HLS_msn": "1.5"}, "hls_bad_directive"),
        ({"_HLS_msn": str(last), "_HLS_part": "x"}, "hls_bad_directive"),
        ({"_HLS_msn": str(last + 4)}, "hls_msn_too_far"),
        ({"_HLS_msn": str(last + 1), "_HLS_part": "40"}, "hls_part_too_far"),
    ):
        r = await http.get("live.m3u8", params=params)
        assert r.status_code == 400, (params, r.status_code, r.text)
        assert r.json()["code"] == code, (params, r.text)
    # A part that was never made is a plain 404.
    assert (await http.get(f"seg-{last:06d}.9.ts")).status_code == 404
