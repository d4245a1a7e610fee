"""A segment on its way to the disk when its recording closes, through a real server: the space
ends and the sweep would make the recording final, its host deletes it, or another node's sweep
(which cannot see this node's queue) makes it final. The recording is whole or ends where it
ended, and a deleted one leaves no audio behind on disk.

A segment is held at the disk (the recorder's read of live HLS blocks) while the recording
changes, then let go."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from parley.media.playlist import SegmentEntry, segment_name, segment_sequence
from parley.store.recordings import RecordingStore
from tests.support.clients import Person
from tests.support.recordings import complete, recording_server, tone_segments
from tests.support.servers import ServerThread, wait_until

pytestmark = pytest.mark.ffmpeg

SEGMENT_SECONDS = 1.0


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[ServerThread]:
    with recording_server(tmp_path) as running:
        yield running


class HeldDisk:
    """A recorded space of `host`, ended with its first segment kept and its second (its last)
    held at the disk: the recorder's read of it from live HLS waits until `free` is set."""

    def __init__(self, server: ServerThread, host: Person, space_id: str) -> None:
        self.server, self.host, self.space_id = server, host, space_id
        self.recorder = server.node.recorder
        self.free = threading.Event()
        self.audio = dict(enumerate(tone_segments(2, 440.0, SEGMENT_SECONDS)))
        self._live_read = self.recorder.live.read

    def read(self, stream: str, name: str) -> bytes | None:
        if stream != self.space_id:
            return self._live_read(stream, name)
        if name == segment_name(1):
            self.free.wait(20)
        return self.audio[segment_sequence(name) or 0]

    async def _store(self, sequence: int) -> None:
        started = datetime.now(UTC) + timedelta(seconds=sequence)
        entry = SegmentEntry(sequence, SEGMENT_SECONDS, started)
        self.recorder.segment_stored(self.space_id, entry)

    async def end_with_the_last_segment_on_its_way(self) -> None:
        """As a mixer stopping with the space does: its last segment is queued, then the end."""
        self.server.call(self._store(0))
        await wait_until(lambda: self.recorder.segments_recorded == 1)
        self.server.call(self._store(1))
        await self.host.call("POST", f"/spaces/{self.space_id}/end", 200)

    def files(self) -> list[str]:
        folder = self.recorder.store.root / self.space_id
        return sorted(p.name for p in folder.iterdir()) if folder.exists() else []

    async def indexed(self) -> int:
        async with self.recorder.db.read() as conn:
            return len(await RecordingStore(conn).segments(self.space_id))

    def finalize_over(self, cutoff: datetime) -> None:
        """This node's sweep, as if FINALIZE_AFTER had passed since the space ended."""
        self.server.call(self.recorder.finalize_over(cutoff))


@pytest.fixture
async def held(server: ServerThread, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[HeldDisk]:
    host = await Person.sign_up(server.base_url, "host")
    body = {"title": "Slow disk", "recording": True}
    sid: str = (await host.call("POST", "/spaces", 201, json=body))["id"]
    disk = HeldDisk(server, host, sid)
    monkeypatch.setattr(server.node.recorder.live, "read", disk.read)
    try:
        await disk.end_with_the_last_segment_on_its_way()
        yield disk
    finally:
        disk.free.set()
        await host.close()


async def test_a_recording_is_not_final_while_its_last_segment_waits_for_a_slow_disk(
    held: HeldDisk,
) -> None:
    """The sweep makes a recording final (ENDLIST) a few seconds after its space ends; a segment
    still queued for the disk then, behind a slow one or a long queue, would have come after the
    end and been left out of the replay."""
    host, sid, recorder = held.host, held.space_id, held.recorder
    held.finalize_over(datetime.now(UTC) + timedelta(hours=1))
    info = await host.call("GET", f"/spaces/{sid}/recording", 200)
    assert info["state"] != "complete" and info["segments"] == 1
    held.free.set()
    await wait_until(lambda: recorder.segments_recorded == 2)
    held.finalize_over(datetime.now(UTC) + timedelta(hours=1))
    info = await complete(host.http, sid)
    assert info["segments"] == 2 and abs(info["duration_seconds"] - 2.0) < 0.01
    assert recorder.segments_lost == 0


async def test_a_recording_deleted_while_its_last_segment_is_on_the_way_leaves_no_audio(
    held: HeldDisk,
) -> None:
    """The host ends the space and deletes its recording at once. The segment that was on its
    way is not written back beside the deleted ones, nor indexed."""
    host, sid, recorder = held.host, held.space_id, held.recorder
    assert held.files() == [segment_name(0)]
    await host.call("DELETE", f"/spaces/{sid}/recording", 204)
    held.free.set()
    await wait_until(lambda: recorder.queued == 0)
    assert held.files() == []
    await host.refused("GET", f"/spaces/{sid}/recording", 410, "recording_deleted")
    assert (recorder.segments_recorded, recorder.segments_lost) == (1, 0)
    assert held.server.call(held.indexed()) == 0


async def test_a_segment_after_another_nodes_sweep_made_the_recording_final_is_left_out(
    held: HeldDisk,
) -> None:
    """Another node's sweep cannot see what waits in this node's queue: it may make the recording
    final while a segment is on its way here. The replay then ends where it was made final
    (nothing after ENDLIST), the late segment's file goes, and it is counted lost."""
    host, sid, recorder = held.host, held.space_id, held.recorder

    async def finalize_elsewhere() -> None:
        async with recorder.db.write() as conn:
            await RecordingStore(conn).finalize(sid, datetime.now(UTC))

    held.server.call(finalize_elsewhere())
    held.free.set()
    await wait_until(lambda: recorder.queued == 0)
    info = await complete(host.http, sid)
    assert info["segments"] == 1 and abs(info["duration_seconds"] - 1.0) < 0.01
    playlist = (await host.http.get(f"/spaces/{sid}/recording/replay.m3u8")).text
    assert playlist.count("#EXTINF") == 1 and playlist.rstrip().endswith("#EXT-X-ENDLIST")
    assert held.files() == [segment_name(0)]
    assert (recorder.segments_recorded, recorder.segments_lost) == (1, 1)
