"""Transcripts beside recordings, through a real server: a recorded space's final captions are its
recording's transcript, as strict WebVTT whose cues fall within 1 s of the words in the replay's
audio, and as the subtitles rendition of the replay's HLS; they follow the recording's trim,
deletion, retention and hiding; moderators read a reported space's words around the report and
search what they should, each line linking into the recording.

The first test goes through real recognition (espeak-ng speech over WebRTC, pocketsphinx); the
others inject final captions through the caption service, as recognition would, to place words
exactly where a check wants them.
"""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import pytest

from tests.support.audio import MediaClient
from tests.support.captions import ALICE_SAYS, CAPTION_WAIT, say_now
from tests.support.clients import Person, bring_on_stage, http_client
from tests.support.media_files import ffprobe, packet_span
from tests.support.moderation import admin, suspend
from tests.support.recordings import complete, recorded_segments, recording_server
from tests.support.servers import ServerThread
from tests.support.speech import Speaker, say
from tests.support.webvtt import attributes, parse_media_playlist, parse_webvtt

pytestmark = pytest.mark.ffmpeg

API = "/api/v1"


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[ServerThread]:
    with recording_server(tmp_path, recording_retention_days=1) as running:
        yield running


# --- speech in the replay ---------------------------------------------------------------------


def speech_bursts(m4a: bytes) -> list[tuple[float, float]]:
    """(start, end) seconds of each stretch of sound in a replay of speech and digital silence:
    10 ms windows louder than 5% of the loudest, gaps under 0.4 s (between words) bridged."""
    with av.open(io.BytesIO(m4a), "r") as container:
        rate = container.streams.audio[0].codec_context.sample_rate
        pcm = np.concatenate([f.to_ndarray()[0] for f in container.decode(audio=0)])
    window = rate // 100
    frames = pcm[: len(pcm) // window * window].reshape(-1, window)
    loud = np.sqrt((frames.astype(np.float64) ** 2).mean(axis=1))
    voiced = np.flatnonzero(loud > 0.05 * loud.max())
    bursts: list[tuple[float, float]] = []
    for index in voiced:
        at = index / 100
        if bursts and at - bursts[-1][1] < 0.4:
            bursts[-1] = (bursts[-1][0], at + 0.01)
        else:
            bursts.append((at, at + 0.01))
    return bursts


@pytest.mark.espeak
async def test_a_recorded_spaces_transcript_is_webvtt_in_time_with_the_replay(
    tmp_path: Path,
) -> None:
    with recording_server(tmp_path, captions="pocketsphinx") as server:
        await _speak_record_and_check(server)


async def _speak_record_and_check(server: ServerThread) -> None:
    host = await Person.sign_up(server.base_url, "host")
    alice = await Person.sign_up(server.base_url, "alice")
    anonymous = http_client(base_url=f"{server.base_url}{API}", timeout=10)
    body = {"title": "Morning talk", "recording": True}
    sid = (await host.call("POST", "/spaces", 201, json=body))["id"]
    await alice.call("POST", f"/spaces/{sid}/join", 200)
    await bring_on_stage(host, alice, sid)
    speech = Speaker()
    client = await MediaClient.connect(alice, sid, track=speech)
    try:
        async with host.events(sid) as stream:
            await stream.wait_for("snapshot")
            await recorded_segments(host, sid, 3)  # silence first: the words are not at 0
            speech.play(say(ALICE_SAYS))
            # Its final line, whatever pocketsphinx made of the words (test_captions checks
            # those): what is checked here is where the line is in the replay.
            final = await stream.wait_for(
                "caption", timeout=CAPTION_WAIT, final=True, speaker=alice.id
            )
            said = final["data"]
            while speech.playing:
                await asyncio.sleep(0.1)
            await asyncio.sleep(2.5)  # the last words into a finished segment
        await host.call("POST", f"/spaces/{sid}/end", 200)
    finally:
        await client.close()
    try:
        info = await complete(anonymous, sid)
        r = await anonymous.get(info["transcript_url"].removeprefix(API))
        assert r.status_code == 200 and r.headers["content-type"] == "text/vtt; charset=utf-8"
        vtt = parse_webvtt(r.text)
        assert vtt.timestamp_map is None and vtt.cues
        assert all(c.voice == "alice" for c in vtt.cues)
        heard = [c for c in vtt.cues if c.text == said["text"]]
        assert heard, (said, vtt.cues)

        # Every cue starts within 1 s of a stretch of speech in the replay, and overlaps it.
        download = await anonymous.get(info["download_url"].removeprefix(API))
        bursts = speech_bursts(download.content)
        assert bursts and bursts[0][0] > 1.0, bursts  # silence was recorded before the words
        for cue in vtt.cues:
            onset, end = min(bursts, key=lambda b: abs(b[0] - cue.start))
            print(
                f"cue {cue.start:.3f}-{cue.end:.3f} s, speech {onset:.3f}-{end:.3f} s: {cue.text}"
            )
            assert abs(cue.start - onset) < 1.0, (cue, bursts)
            assert cue.start < end and cue.end > onset, (cue, bursts)
        # The space's own transcript counts from its start, the recording's from its first
        # segment: the same line, earlier in the replay.
        space_vtt = parse_webvtt((await host.http.get(f"/spaces/{sid}/transcript.vtt")).text)
        line = next(c for c in space_vtt.cues if c.text == said["text"])
        started = datetime.fromisoformat(info["started_at"])
        space = await host.http.get(f"/spaces/{sid}")
        offset = (started - datetime.fromisoformat(space.json()["started_at"])).total_seconds()
        assert abs(line.start - offset - heard[0].start) < 0.01

        lines = await anonymous.get(info["transcript_lines_url"].removeprefix(API))
        assert [(x["text"], round(x["start"], 3)) for x in lines.json()] == [
            (c.text, c.start) for c in vtt.cues
        ]
        await subtitles_rendition_is_the_transcript(server, anonymous, info, vtt.cues)
    finally:
        await anonymous.aclose()
        for person in (host, alice):
            await person.close()


async def subtitles_rendition_is_the_transcript(
    server: ServerThread, http: httpx.AsyncClient, info: dict[str, Any], cues: list[Any]
) -> None:
    """master.m3u8 holds the audio playlist and the subtitles; the subtitles playlist has a
    WebVTT segment per audio segment, each mapped onto that segment's MPEG-TS timestamps and
    holding the cues heard in it; ffprobe reads both playlists."""
    base = info["master_playlist_url"].removeprefix(API).rsplit("/", 1)[0]
    master = (await http.get(info["master_playlist_url"].removeprefix(API))).text
    lines = master.rstrip("\n").split("\n")
    assert lines[0] == "#EXTM3U"
    (media,) = [attributes(x) for x in lines if x.startswith("#EXT-X-MEDIA:")]
    assert media["TYPE"] == "SUBTITLES" and media["URI"] == "subtitles.m3u8"
    (at,) = [i for i, x in enumerate(lines) if x.startswith("#EXT-X-STREAM-INF:")]
    variant = attributes(lines[at])
    assert variant["SUBTITLES"] == media["GROUP-ID"] and int(variant["BANDWIDTH"]) > 0
    assert lines[at + 1] == "replay.m3u8"

    audio = parse_media_playlist((await http.get(f"{base}/replay.m3u8")).text)
    subtitles = parse_media_playlist((await http.get(f"{base}/subtitles.m3u8")).text)
    assert subtitles.ended and audio.ended
    assert [(d, mark) for _, d, mark in subtitles.entries] == [
        (d, mark) for _, d, mark in audio.entries
    ]
    found = set()
    position = 0.0
    for (ts_name, duration, _), (vtt_name, _, _) in zip(
        audio.entries, subtitles.entries, strict=True
    ):
        segment = await http.get(f"{base}/{vtt_name}")
        assert segment.headers["content-type"] == "text/vtt; charset=utf-8"
        piece = parse_webvtt(segment.text)
        ts = (await http.get(f"{base}/{ts_name}")).content
        assert piece.timestamp_map is not None
        mpegts, local = piece.timestamp_map
        assert mpegts == packet_span(ts)[0] and abs(local - position) < 0.001
        for cue in piece.cues:
            assert cue.start < position + duration and cue.end > position
            found.add((cue.start, cue.end, cue.text))
        position += duration
    assert found == {(c.start, c.end, c.text) for c in cues}

    # ffmpeg's HLS demuxer plays the variant of the multivariant playlist (it leaves subtitles
    # renditions aside), and reads the subtitles playlist as WebVTT.
    for name, kind in (
        ("master.m3u8", ("audio", "aac")),
        ("subtitles.m3u8", ("subtitle", "webvtt")),
    ):
        probed = await ffprobe("-show_streams", f"{server.base_url}{API}{base}/{name}")
        assert [(s["codec_type"], s["codec_name"]) for s in probed["streams"]] == [kind], name


# --- injected captions: where the words go -----------------------------------------------------


async def record_saying(
    server: ServerThread, host: Person, singer: Person, title: str, words: list[str]
) -> tuple[str, list[float]]:
    """A recorded space where the singer "says" each of `words` one after the other, three
    segments apart; ended and finalized. Returns the space and roughly where each was said in
    the replay."""
    body = {"title": title, "recording": True}
    sid: str = (await host.call("POST", "/spaces", 201, json=body))["id"]
    await singer.call("POST", f"/spaces/{sid}/join", 200)
    await bring_on_stage(host, singer, sid)
    singing = await MediaClient.connect(singer, sid, tone=440.0)
    said_at = []
    try:
        count = 2
        for text in words:
            info = await recorded_segments(singer, sid, count)
            say_now(server, sid, singer.id, text)
            said_at.append(info["duration_seconds"])
            count += 3
        await recorded_segments(singer, sid, count)
    finally:
        await singer.call("DELETE", f"/spaces/{sid}/media", 204)
        await singing.close()
    await host.call("POST", f"/spaces/{sid}/end", 200)
    await complete(host.http, sid)
    return sid, said_at


async def texts(http: httpx.AsyncClient, sid: str) -> list[str]:
    r = await http.get(f"/spaces/{sid}/recording/transcript")
    assert r.status_code == 200, r.text
    return [line["text"] for line in r.json()]


async def found(moderator: Person, words: str) -> list[dict[str, Any]]:
    hits: list[dict[str, Any]] = await moderator.call("GET", f"/admin/transcripts?q={words}", 200)
    return hits


async def test_transcripts_go_with_a_deleted_or_trimmed_recording_and_hide_with_it(
    server: ServerThread,
) -> None:
    mod = await admin(server, "mod")
    host = await Person.sign_up(server.base_url, "host")
    alice = await Person.sign_up(server.base_url, "alice")
    anonymous = http_client(base_url=f"{server.base_url}{API}", timeout=10)
    try:
        sid, said_at = await record_saying(
            server, host, alice, "Trimmed", ["early aardvark", "later zebra"]
        )
        before = (await anonymous.get(f"/spaces/{sid}/recording/transcript")).json()
        assert [x["text"] for x in before] == ["early aardvark", "later zebra"]
        # Said after the recording held `said_at` seconds (it lags the room by a segment or so).
        for line, at in zip(before, said_at, strict=True):
            assert at - 1.5 < line["start"] < at + 4, (line, said_at)
        (hit,) = await found(mod, "zebra")
        assert (hit["space_id"], hit["space_title"]) == (sid, "Trimmed")
        assert hit["line"]["speaker_name"] == "alice"
        assert hit["line"]["replay_at"] == pytest.approx(before[1]["start"], abs=0.01)
        assert hit["line"]["replay_link"] == f"/#/spaces/{sid}/replay?t={before[1]['start']:.1f}"

        # The host trims past the first line: its words go with the audio; the rest moves up
        # by what was cut (whole segments).
        untrimmed = (await anonymous.get(f"/spaces/{sid}/recording")).json()["duration_seconds"]
        trimmed = await host.call(
            "POST", f"/spaces/{sid}/recording/trim", 200, json={"seconds": before[0]["end"] + 1.05}
        )
        cut = untrimmed - trimmed["duration_seconds"]
        (after,) = (await anonymous.get(f"/spaces/{sid}/recording/transcript")).json()
        assert after["text"] == "later zebra" and before[0]["end"] <= cut < before[1]["start"]
        assert after["start"] == pytest.approx(before[1]["start"] - cut, abs=0.01)
        assert await found(mod, "aardvark") == []
        space_vtt = (await alice.http.get(f"/spaces/{sid}/transcript.vtt")).text
        assert "aardvark" not in space_vtt and "zebra" in space_vtt

        # Deleted by the host: gone, and nothing of it left to find.
        await host.call("DELETE", f"/spaces/{sid}/recording", 204)
        for name in ("transcript", "transcript.vtt", "master.m3u8", "sub-000000.vtt"):
            r = await anonymous.get(f"/spaces/{sid}/recording/{name}")
            assert (r.status_code, r.json()["code"]) == (410, "recording_deleted"), name
        assert await found(mod, "zebra") == []
        assert "zebra" not in (await alice.http.get(f"/spaces/{sid}/transcript.vtt")).text

        # Another: hidden with its recording while its host is suspended (their token goes
        # with the suspension); moderators still find it.
        other, _ = await record_saying(server, host, alice, "Removed", ["quokka words"])
        assert len(await found(mod, "quokka")) == 1
        await suspend(mod, "host")
        for name in ("transcript", "transcript.vtt", "master.m3u8", "subtitles.m3u8"):
            r = await anonymous.get(f"/spaces/{other}/recording/{name}")
            assert (r.status_code, r.json()["code"]) == (404, "recording_hidden"), name
        # Nor through the space's own transcript.
        await alice.refused("GET", f"/spaces/{other}/transcript.vtt", 404, "recording_hidden")
        assert len(await found(mod, "quokka")) == 1
        await mod.call("POST", "/admin/accounts/host/unsuspend", 200, json={"reason": "Upheld"})

        # Deleted by a moderator: the same.
        removal = {"rule": "harassment", "reason": "Threats"}
        await mod.call("DELETE", f"/admin/spaces/{other}/recording", 204, json=removal)
        assert await found(mod, "quokka") == []
    finally:
        await anonymous.aclose()
        for person in (mod, host, alice):
            await person.close()


async def test_retention_takes_transcripts_except_under_an_open_report_which_shows_them(
    server: ServerThread,
) -> None:
    mod = await admin(server, "mod")
    host = await Person.sign_up(server.base_url, "host")
    alice = await Person.sign_up(server.base_url, "alice")
    try:
        plain, _ = await record_saying(server, host, alice, "Forgettable", ["plain walrus"])
        reported, _ = await record_saying(
            server, host, alice, "Disputed", ["first narwhal", "second narwhal"]
        )
        report = {"target_type": "space", "target_id": reported, "rule": "harassment"}
        made = await alice.call("POST", "/reports", 201, json=report)

        # The moderator's view of the report: the lines around it, linked into the replay.
        view = await mod.call("GET", f"/admin/reports/{made['id']}/transcript", 200)
        assert (view["space_id"], view["space_title"], view["recorded"]) == (
            reported, "Disputed", True,
        )  # fmt: skip
        assert [x["text"] for x in view["lines"]] == ["first narwhal", "second narwhal"]
        lines = await mod.http.get(f"/spaces/{reported}/recording/transcript")
        for shown, line in zip(view["lines"], lines.json(), strict=True):
            assert shown["replay_at"] == pytest.approx(line["start"], abs=0.01)
            assert shown["replay_link"] == f"/#/spaces/{reported}/replay?t={line['start']:.1f}"
            assert view["at"] - 120 <= shown["start"] <= view["at"] + 120
        # Only what was said within the window: ten seconds either side holds none of it when
        # the report is made long after.
        server.node.clock.advance(timedelta(minutes=5))
        late = await alice.call("POST", "/reports", 201, json=report)
        view = await mod.call("GET", f"/admin/reports/{late['id']}/transcript?seconds=10", 200)
        assert view["lines"] == []
        await alice.refused(
            "GET", f"/admin/reports/{made['id']}/transcript", 403, "moderators_only"
        )
        on_account = {"target_type": "account", "target_id": "host", "rule": "spam"}
        other = await alice.call("POST", "/reports", 201, json=on_account)
        await mod.refused(
            "GET", f"/admin/reports/{other['id']}/transcript", 404, "report_not_on_space"
        )
        await mod.refused("GET", "/admin/reports/nope/transcript", 404, "report_not_found")

        # A day later: the plain recording's transcript goes, the reported one's stays.
        server.node.clock.advance(timedelta(hours=25))
        deadline = time.monotonic() + 10
        while await found(mod, "walrus"):
            assert time.monotonic() < deadline, "the transcript outlived its recording"
            await asyncio.sleep(0.1)
        await mod.refused("GET", f"/spaces/{plain}/recording/transcript", 410, "recording_deleted")
        assert len(await found(mod, "narwhal")) == 2
        assert await texts(mod.http, reported) == ["first narwhal", "second narwhal"]

        # Both reports resolved: the normal rule applies at the next check.
        for report_id in (made["id"], late["id"]):
            decision = {"status": "dismissed", "reason": "Nothing against the rules"}
            await mod.call("POST", f"/admin/reports/{report_id}/resolve", 200, json=decision)
        server.node.clock.advance(timedelta(minutes=2))
        deadline = time.monotonic() + 10
        while await found(mod, "narwhal"):
            assert time.monotonic() < deadline, "the transcript outlived its recording"
            await asyncio.sleep(0.1)
    finally:
        for person in (mod, host, alice):
            await person.close()


async def test_search_covers_kept_recordings_and_live_spaces_only(server: ServerThread) -> None:
    mod = await admin(server, "mod")
    host = await Person.sign_up(server.base_url, "host")
    alice = await Person.sign_up(server.base_url, "alice")
    try:
        await mod.refused("GET", "/admin/transcripts?q=x", 422, "invalid_request")
        sid = (await host.call("POST", "/spaces", 201, json={"title": "Unrecorded"}))["id"]
        await alice.call("POST", f"/spaces/{sid}/join", 200)
        await bring_on_stage(host, alice, sid)
        say_now(server, sid, alice.id, "live platypus")
        # Live: what is being said now is searchable, with no replay to link to.
        (hit,) = await found(mod, "platypus")
        assert hit["line"]["replay_at"] is None and hit["line"]["replay_link"] is None
        await host.call("POST", f"/spaces/{sid}/end", 200)
        # Over and never recorded: not searched.
        assert await found(mod, "platypus") == []
        # Listeners cannot search, nor read a replay's transcript of an unrecorded space.
        await alice.refused("GET", "/admin/transcripts?q=platypus", 403, "moderators_only")
        await alice.refused(
            "GET", f"/spaces/{sid}/recording/transcript.vtt", 404, "recording_not_found"
        )
        # Its words are kept as long as a recording would have been (a day here), then go.
        said = await mod.call("GET", f"/admin/spaces/{sid}/transcript", 200)
        assert [line["text"] for line in said] == ["live platypus"]
        server.node.clock.advance(timedelta(hours=25))
        deadline = time.monotonic() + 10
        while await mod.call("GET", f"/admin/spaces/{sid}/transcript", 200):
            assert time.monotonic() < deadline, "an unrecorded space's words outlived retention"
            await asyncio.sleep(0.1)
    finally:
        for person in (mod, host, alice):
            await person.close()
