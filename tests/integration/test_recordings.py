"""Recording and replay through a real server: a speaker sings over WebRTC, the recorded
segments become a VOD playlist (checked by ffprobe) and a download, a seek lands on the right
tone, and the recording survives `kill -9` of `parley serve`.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from parley.media.playlist import SegmentEntry
from parley.services.recorder import FINALIZE_AFTER
from tests.support.audio import MediaClient, loudest_frequency
from tests.support.clients import Person, bring_on_stage, http_client
from tests.support.media_files import dominant_frequency, ffprobe, packet_span, vod_entries
from tests.support.metrics import scraped
from tests.support.recordings import (
    complete,
    recorded_segments,
    recording_server,
    singer_voice,
    tone_segments,
)
from tests.support.servers import (
    ServerThread,
    answering,
    free_port,
    serve,
    serve_process,
    sqlite_url,
    wait_until,
)

pytestmark = pytest.mark.ffmpeg

LOW, HIGH = 440.0, 880.0
SEGMENT_SECONDS = 1.0
SEGMENTS = {"PARLEY_HLS_SEGMENT_SECONDS": str(SEGMENT_SECONDS)}


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[ServerThread]:
    with recording_server(tmp_path) as running:
        yield running


def m4a_seconds_and_tone(data: bytes) -> tuple[float, float]:
    with av.open(io.BytesIO(data), "r") as container:
        assert container.streams.audio[0].codec_context.name == "aac"
        pcm = np.concatenate([f.to_ndarray()[0] for f in container.decode(audio=0)])
    # Welch's reading, as for segments: a clip of audio carried through a stall read 431 Hz for
    # a 440 Hz tone in one transform of the whole.
    return len(pcm) / 48_000, loudest_frequency(pcm)


async def test_a_replay_seeked_to_a_tone_change_plays_the_right_tone(
    server: ServerThread,
) -> None:
    host = await Person.sign_up(server.base_url, "host")
    alice = await Person.sign_up(server.base_url, "alice")
    anonymous = http_client(base_url=f"{server.base_url}/api/v1", timeout=10)
    body = {"title": "Recorded tones", "recording": True}
    sid = (await host.call("POST", "/spaces", 201, json=body))["id"]
    await alice.call("POST", f"/spaces/{sid}/join", 200)
    await bring_on_stage(host, alice, sid)
    singing = await MediaClient.connect(alice, sid, tone=LOW)
    try:
        await recorded_segments(alice, sid, 4)
        changed_at = datetime.now().astimezone()
        singer_voice(singing).frequency = HIGH
        live = await recorded_segments(alice, sid, 9)
        assert live["state"] == "recording"
        await host.call("POST", f"/spaces/{sid}/end", 200)
        ended_at = time.monotonic()
    finally:
        await singing.close()
    try:
        info = await complete(anonymous, sid)  # signed out: a public space's replay
        # Final once its last segment is kept, not when a sweep gets to it (FINALIZE_AFTER
        # after the end; half of it leaves a busy machine room).
        took = time.monotonic() - ended_at
        print(f"complete {took:.2f} s after the end")
        assert took < FINALIZE_AFTER.total_seconds() / 2, f"complete {took:.1f} s after the end"
        figures = await scraped(server)
        assert figures["parley_recording_segments_kept_total"] == info["segments"] >= 8
        assert figures["parley_recording_segments_lost_total"] == 0
        started = datetime.fromisoformat(info["started_at"])
        ended = datetime.fromisoformat(info["ended_at"])
        assert abs((ended - started).total_seconds() - info["duration_seconds"]) < 0.1
        assert info["duration_seconds"] >= 8 and info["size_bytes"] > 8 * 10_000
        playlist_url = info["playlist_url"]
        r = await anonymous.get(playlist_url.removeprefix("/api/v1"))
        assert r.headers["content-type"] == "application/vnd.apple.mpegurl"
        lines = r.text.splitlines()
        assert "#EXT-X-PLAYLIST-TYPE:VOD" in lines and lines[-1] == "#EXT-X-ENDLIST"
        listed = vod_entries(r.text)
        assert len(listed) == info["segments"]
        probed = await ffprobe("-show_format", "-show_streams", server.base_url + playlist_url)
        assert probed["format"]["format_name"] == "hls"
        assert abs(float(probed["format"]["duration"]) - info["duration_seconds"]) < 1.0

        # Seek: the segment that plays 1.5 s before the change, and the one 1.5 s after.
        change = (changed_at - started).total_seconds()
        starts = np.cumsum([0.0] + [d for _, d in listed])
        for position, tone in ((change - 1.5, LOW), (change + 1.5, HIGH)):
            at = int(np.searchsorted(starts, position, side="right")) - 1
            name = listed[at][0]
            segment = await anonymous.get(f"/spaces/{sid}/recording/{name}")
            assert segment.status_code == 200 and segment.headers["content-type"] == "video/mp2t"
            assert abs(dominant_frequency(segment.content) - tone) < 5, (position, name)

        # The same recording as one file, remuxed: every second of it, both tones.
        download = await anonymous.get(info["download_url"].removeprefix("/api/v1"))
        assert download.status_code == 200, download.text
        assert download.headers["content-type"] == "audio/mp4"
        assert "attachment" in download.headers["content-disposition"]
        seconds, _ = m4a_seconds_and_tone(download.content)
        assert abs(seconds - info["duration_seconds"]) < 0.1
        size = len(download.content)
        part = await anonymous.get(
            info["download_url"].removeprefix("/api/v1"), headers={"Range": "bytes=0-99"}
        )
        assert part.status_code == 206 and part.content == download.content[:100]
        past = await anonymous.get(
            info["download_url"].removeprefix("/api/v1"), headers={"Range": f"bytes={size}-"}
        )
        assert past.status_code == 416 and past.json()["code"] == "range_not_satisfiable"
        head = await anonymous.head(f"/spaces/{sid}/recording/{listed[0][0]}")
        assert head.status_code == 200 and int(head.headers["content-length"]) > 0

        # Who spoke when: alice, from about when she started to about the end.
        timeline = (await anonymous.get(f"/spaces/{sid}/recording/timeline")).json()
        assert {turn["handle"] for turn in timeline["speakers"]} == {"alice"}
        spoken = sum(t["end"] - t["start"] for t in timeline["speakers"])
        assert spoken > info["duration_seconds"] - 3

        # The host trims the first 3 s: whole segments go, the rest stays as it was.
        trimmed = await host.call(
            "POST", f"/spaces/{sid}/recording/trim", 200, json={"seconds": 3.0}
        )
        assert 2.0 < info["duration_seconds"] - trimmed["duration_seconds"] <= 3.01
        await alice.refused(
            "POST", f"/spaces/{sid}/recording/trim", 403, "recording_host_only",
            json={"seconds": 1.0},
        )  # fmt: skip
        # Bad input gets a clear 4xx.
        await alice.refused("GET", "/spaces/nope/recording", 404, "space_not_found")
        await alice.refused(
            "GET", f"/spaces/{sid}/recording/seg-1.ts", 404, "recording_file_not_found"
        )
        await host.call("DELETE", f"/spaces/{sid}/recording", 204)
        r = await anonymous.get(f"/spaces/{sid}/recording")
        assert r.status_code == 410 and r.json()["code"] == "recording_deleted"
        assert not (Path(server.settings.data_dir) / "recordings" / sid).exists()
    finally:
        await anonymous.aclose()
        for person in (host, alice):
            await person.close()


async def sung_then_left(host: Person, singer: Person, title: str) -> str:
    """A recorded space of the host's, where the singer sang two segments' worth and left."""
    body = {"title": title, "recording": True}
    sid: str = (await host.call("POST", "/spaces", 201, json=body))["id"]
    await singer.call("POST", f"/spaces/{sid}/join", 200)
    await bring_on_stage(host, singer, sid)
    singing = await MediaClient.connect(singer, sid, tone=LOW)
    try:
        await recorded_segments(singer, sid, 2)
        await singer.call("DELETE", f"/spaces/{sid}/media", 204)
    finally:
        await singing.close()
    return sid


async def test_a_space_ended_after_its_speakers_left_is_final_at_once(tmp_path: Path) -> None:
    """Everyone's media gone before the end: on the only node nothing more can come, so the
    recording is final, and the live playlist ends, at once, not a sweep's FINALIZE_AFTER (nor
    the paused stream's half-minute check) later. Once after the room closed, once while it
    may still be closing (its mixer storing the last segment as the end comes)."""
    with recording_server(tmp_path, hls_ended_keep_seconds=30) as server:
        segmenting = server.node.hls.segmenting
        host = await Person.sign_up(server.base_url, "host")
        alice = await Person.sign_up(server.base_url, "alice")
        try:
            for settle in (True, False):
                sid = await sung_then_left(host, alice, f"Left first ({settle})")
                if settle:
                    await wait_until(lambda s=sid: not segmenting(s), timeout=10)
                await host.call("POST", f"/spaces/{sid}/end", 200)
                ended_at = time.monotonic()
                info = await complete(alice.http, sid)
                took = time.monotonic() - ended_at
                assert took < FINALIZE_AFTER.total_seconds() / 2, f"complete {took:.1f} s after"
                live = await alice.http.get(f"/spaces/{sid}/hls/live.m3u8")
                assert live.text.splitlines()[-1] == "#EXT-X-ENDLIST", live.text
                assert info["segments"] >= 2
            assert (await scraped(server))["parley_recording_segments_lost_total"] == 0
        finally:
            for person in (host, alice):
                await person.close()


async def test_the_host_starts_recording_while_live_and_everyone_is_told(
    server: ServerThread,
) -> None:
    host = await Person.sign_up(server.base_url, "host")
    alice = await Person.sign_up(server.base_url, "alice")
    try:
        sid = (await host.call("POST", "/spaces", 201, json={"title": "Not yet"}))["id"]
        await alice.call("POST", f"/spaces/{sid}/join", 200)
        await host.refused("GET", f"/spaces/{sid}/recording", 404, "recording_not_found")
        await alice.refused("POST", f"/spaces/{sid}/clips", 409, "space_not_recorded", json={})
        async with alice.events(sid) as events:
            # Attached first: a change made before the socket is in the feed comes in its
            # snapshot, not as an event (on a loaded machine the socket can be that slow).
            await events.wait_for("snapshot")
            await alice.refused("POST", f"/spaces/{sid}/recording/start", 403, "record_not_allowed")
            view = await host.call("POST", f"/spaces/{sid}/recording/start", 200)
            assert view["recording"] is True
            told = await events.wait_for("recording_changed")
            assert told["data"] == {"recording": True, "by": host.id}
        assert (await alice.call("GET", f"/spaces/{sid}", 200))["recording"] is True

        # A segment live HLS no longer holds when the recorder comes to keep it is lost: never
        # indexed, and counted where an operator watches, beside what was kept.
        async def stored_then_gone() -> None:
            server.node.recorder.segment_stored(sid, SegmentEntry(7, 1.0, datetime.now(UTC)))

        server.call(stored_then_gone())
        figures = await wait_until(lambda: _recording_figures(server, lost=1), timeout=10)
        assert figures["parley_recording_segments_kept_total"] == 0
        assert figures["parley_recording_queued_segments"] == 0
        await host.refused("GET", f"/spaces/{sid}/recording", 404, "recording_not_found")
    finally:
        await host.close()
        await alice.close()


async def _recording_figures(server: ServerThread, lost: int) -> dict[str, float] | None:
    """The node's recording figures, once `lost` segments are counted lost."""
    figures = await scraped(server)
    return figures if figures["parley_recording_segments_lost_total"] == lost else None


async def test_clips_of_a_live_space_and_of_its_replay(server: ServerThread) -> None:
    host = await Person.sign_up(server.base_url, "host")
    alice = await Person.sign_up(server.base_url, "alice")
    bob = await Person.sign_up(server.base_url, "bob")
    anonymous = http_client(base_url=f"{server.base_url}/api/v1", timeout=10)
    body = {"title": "Clip me", "recording": True}
    sid = (await host.call("POST", "/spaces", 201, json=body))["id"]
    await alice.call("POST", f"/spaces/{sid}/join", 200)
    await bring_on_stage(host, alice, sid)
    singing = await MediaClient.connect(alice, sid, tone=LOW)
    try:
        await recorded_segments(alice, sid, 4)
        # Anyone in the space clips what was just said; someone not in it may not.
        await bob.refused("POST", f"/spaces/{sid}/clips", 403, "not_in_space", json={})
        await alice.refused(
            "POST", f"/spaces/{sid}/clips", 422, "clip_too_long", json={"duration_seconds": 31}
        )
        live = await alice.call("POST", f"/spaces/{sid}/clips", 201, json={"duration_seconds": 2})
        assert live["by"] == "alice" and abs(live["duration_seconds"] - 2) < 0.05
        await host.call("POST", f"/spaces/{sid}/end", 200)
    finally:
        await singing.close()
    try:
        await complete(anonymous, sid)
        # Signed out: the clip's page data and its audio.
        shown = (await anonymous.get(f"/clips/{live['id']}")).json()
        assert shown["title"] == "Clip me" and shown["page"] == f"/#/clips/{live['id']}"
        audio = await anonymous.get(shown["audio_url"].removeprefix("/api/v1"))
        assert audio.status_code == 200 and audio.headers["content-type"] == "audio/mp4"
        seconds, tone = m4a_seconds_and_tone(audio.content)
        assert abs(seconds - 2) < 0.05 and abs(tone - LOW) < 5
        past = await anonymous.get(
            f"/clips/{live['id']}/audio", headers={"Range": f"bytes={len(audio.content)}-"}
        )
        assert past.status_code == 416
        # Of the replay: anyone, up to 60 s, inside the recording.
        replayed = await bob.call(
            "POST", f"/spaces/{sid}/clips", 201,
            json={"start_seconds": 1.0, "duration_seconds": 1.5},
        )  # fmt: skip
        assert replayed["start_seconds"] == 1.0
        for clip, code in (
            ({"start_seconds": 0, "duration_seconds": 61}, "clip_too_long"),
            ({"start_seconds": 500, "duration_seconds": 10}, "clip_out_of_range"),
            ({"duration_seconds": 10}, "clip_start_required"),
        ):
            await bob.refused("POST", f"/spaces/{sid}/clips", 422, code, json=clip)
        await bob.refused("POST", "/spaces/nope/clips", 404, "space_not_found", json={})
        assert (await anonymous.get("/clips/nope")).json()["code"] == "clip_not_found"
        # Clips go with their recording.
        await host.call("DELETE", f"/spaces/{sid}/recording", 204)
        gone = await anonymous.get(f"/clips/{live['id']}")
        assert gone.status_code == 404 and gone.json()["code"] == "clip_not_found"
    finally:
        await anonymous.aclose()
        for person in (host, alice, bob):
            await person.close()


# --- crash safety ------------------------------------------------------------------------------


async def durations(host: Person, space_id: str, names: list[str]) -> list[tuple[str, float]]:
    """Each recorded segment's length in seconds, from its audio packets."""
    found = []
    for name in names:
        segment = (await host.http.get(f"/spaces/{space_id}/recording/{name}")).content
        start, end = packet_span(segment)
        found.append((name, (end - start) / 90_000))
    return found


async def test_kill_9_during_a_recorded_space_loses_at_most_the_last_segment(
    tmp_path: Path,
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    first = serve_process(tmp_path, port, **SEGMENTS)
    try:
        await answering(base)
        host = await Person.sign_up(base, "host")
        alice = await Person.sign_up(base, "alice")
        body = {"title": "Crash test", "recording": True}
        sid = (await host.call("POST", "/spaces", 201, json=body))["id"]
        await alice.call("POST", f"/spaces/{sid}/join", 200)
        await bring_on_stage(host, alice, sid)
        singing = await MediaClient.connect(alice, sid, tone=LOW)
        await recorded_segments(alice, sid, 5)
        killed_at = datetime.now().astimezone()
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        await singing.close()
    finally:
        if first.poll() is None:
            first.kill()
    second = serve_process(tmp_path, port, **SEGMENTS)
    try:
        await answering(base)
        await host.call("POST", f"/spaces/{sid}/end", 200)
        info = await complete(host.http, sid)
        ended = datetime.fromisoformat(info["ended_at"])
        lost = (killed_at - ended).total_seconds()
        assert lost <= 2.0, f"the replay ends {lost:.2f} s before the kill"
        # Every indexed segment is on disk and plays.
        text = (await host.http.get(f"/spaces/{sid}/recording/replay.m3u8")).text
        assert text.splitlines()[-1] == "#EXT-X-ENDLIST"
        names = [line for line in text.splitlines() if line.startswith("seg-")]
        assert len(names) == info["segments"] >= 5
        last = await host.http.get(f"/spaces/{sid}/recording/{names[-1]}")
        heard = dominant_frequency(last.content)
        # The durations of all of them are said should it fail: once a run's last segment was
        # a sliver of 60 ms.
        assert abs(heard - LOW) < 5, (heard, await durations(host, sid, names))
    finally:
        second.send_signal(signal.SIGTERM)
        try:
            second.wait(15)
        except subprocess.TimeoutExpired:
            second.kill()
        await host.close()
        await alice.close()


async def ended_with_unindexed_files(settings: dict[str, Any], count: int) -> tuple[str, Path]:
    """A recorded space, ended at once, and `count` one-second segments of LOW in its
    recording's folder that no index names yet: the space's id and the folder."""
    with serve(**settings) as first:
        host = await Person.sign_up(first.base_url, "host")
        body = {"title": "Left on disk", "recording": True}
        sid = (await host.call("POST", "/spaces", 201, json=body))["id"]
        await host.call("POST", f"/spaces/{sid}/end", 200)
        await host.close()
    folder = Path(settings["data_dir"]) / "recordings" / sid
    folder.mkdir(parents=True)
    for sequence, data in enumerate(tone_segments(count, LOW), start=1_800_000_000):
        (folder / f"seg-{sequence:06d}.ts").write_bytes(data)
    return sid, folder


async def test_segments_on_disk_that_the_index_missed_are_recovered_at_start_up(
    tmp_path: Path,
) -> None:
    settings = {"database_url": sqlite_url(tmp_path), "data_dir": tmp_path / "data"}
    # What a crash between the fsync and the index would leave: files nobody indexed, and
    # one half-written temporary file.
    sid, folder = await ended_with_unindexed_files(settings, 3)
    (folder / ".writing-x").write_bytes(b"half")
    with serve(**settings) as second:
        async with http_client(base_url=f"{second.base_url}/api/v1") as anonymous:
            info = await complete(anonymous, sid)
            assert info["segments"] == 3
            assert abs(info["duration_seconds"] - 3.0) < 0.1
            text = (await anonymous.get(f"/spaces/{sid}/recording/replay.m3u8")).text
            names = [line for line in text.splitlines() if line.startswith("seg-")]
            assert names == [f"seg-{1_800_000_000 + i}.ts" for i in range(3)]
            last = await anonymous.get(f"/spaces/{sid}/recording/{names[-1]}")
            assert abs(dominant_frequency(last.content) - LOW) < 5


async def test_a_restart_deletes_files_that_a_final_recording_can_never_serve(
    tmp_path: Path,
) -> None:
    settings = {"database_url": sqlite_url(tmp_path), "data_dir": tmp_path / "data"}
    sid, folder = await ended_with_unindexed_files(settings, 2)
    with serve(**settings):
        pass  # indexes both and makes the recording final
    # What a node killed between the fsync and the index leaves when another node finalized
    # the recording meanwhile; a write a crash cut short an hour ago; one being made now (by
    # another node sharing the directory).
    stray = folder / "seg-1800000002.ts"
    stray.write_bytes(tone_segments(1, LOW)[0])
    cut_short = folder / ".writing-old"
    cut_short.write_bytes(b"half")
    an_hour_ago = time.time() - 3600
    os.utime(cut_short, (an_hour_ago, an_hour_ago))
    in_flight = folder / ".writing-new"
    in_flight.write_bytes(b"half")
    with serve(**settings) as third:
        # Looked through after start-up: waited for, then compared (to show what is left).
        kept = [".writing-new", "seg-1800000000.ts", "seg-1800000001.ts"]
        with contextlib.suppress(AssertionError):
            await wait_until(lambda: sorted(p.name for p in folder.iterdir()) == kept)
        assert sorted(p.name for p in folder.iterdir()) == kept
        async with http_client(base_url=f"{third.base_url}/api/v1") as anonymous:
            info = await complete(anonymous, sid)
            assert info["segments"] == 2
            text = (await anonymous.get(f"/spaces/{sid}/recording/replay.m3u8")).text
            assert [line for line in text.splitlines() if line.startswith("seg-")] == [
                "seg-1800000000.ts", "seg-1800000001.ts",
            ]  # fmt: skip
