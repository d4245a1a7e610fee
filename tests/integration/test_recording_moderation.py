"""What happens to recordings over time and under moderation, through a real server: retention
deletes them on the node's clock except while a report on the space is open, a suspended host's
recordings are hidden while the suspension lasts, and a moderator's removal is audited, told to
the host, who may appeal it, and undone when a moderator overturns it: until then the files are
kept, hidden, and retention deletes them (not while the appeal is open).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from tests.support.audio import MediaClient
from tests.support.clients import Person, bring_on_stage, http_client
from tests.support.moderation import admin, suspend
from tests.support.recordings import complete, recorded_segments, recording_server
from tests.support.servers import ServerThread, sweeps, wait_until

pytestmark = pytest.mark.ffmpeg


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[ServerThread]:
    with recording_server(tmp_path, recording_retention_days=1) as running:
        yield running


async def record_briefly(host: Person, singer: Person, title: str) -> str:
    """A recorded space with a few seconds of the singer's tone, ended and finalized."""
    body = {"title": title, "recording": True}
    sid: str = (await host.call("POST", "/spaces", 201, json=body))["id"]
    await singer.call("POST", f"/spaces/{sid}/join", 200)
    await bring_on_stage(host, singer, sid)
    singing = await MediaClient.connect(singer, sid, tone=440.0)
    try:
        await recorded_segments(singer, sid, 2)
    finally:
        await singer.call("DELETE", f"/spaces/{sid}/media", 204)
        await singing.close()
    await host.call("POST", f"/spaces/{sid}/end", 200)
    await complete(host.http, sid)
    return sid


async def status_of(http: httpx.AsyncClient, sid: str) -> tuple[int, str | None]:
    r = await http.get(f"/spaces/{sid}/recording")
    return r.status_code, r.json().get("code")


async def until_status(http: httpx.AsyncClient, sid: str, wanted: tuple[int, str | None]) -> None:
    deadline = time.monotonic() + 10
    while (got := await status_of(http, sid)) != wanted:
        assert time.monotonic() < deadline, f"{sid}: {got}, not {wanted}"
        await asyncio.sleep(0.1)


async def test_retention_deletes_old_recordings_but_keeps_reported_ones_until_resolved(
    server: ServerThread,
) -> None:
    mod = await admin(server, "mod")
    host = await Person.sign_up(server.base_url, "host")
    alice = await Person.sign_up(server.base_url, "alice")
    anonymous = http_client(base_url=f"{server.base_url}/api/v1", timeout=10)
    try:
        plain = await record_briefly(host, alice, "Forgettable")
        reported = await record_briefly(host, alice, "Disputed")
        report = {"target_type": "space", "target_id": reported, "rule": "harassment"}
        made = await alice.call("POST", "/reports", 201, json=report)
        files = Path(server.settings.data_dir) / "recordings"
        assert (files / plain).is_dir() and (files / reported).is_dir()

        # Not a day yet: both stay.
        server.node.clock.advance(timedelta(hours=23))
        await sweeps(server, 3)
        assert await status_of(anonymous, plain) == (200, None)
        # A day and more after they ended: the plain one goes, the reported one is kept.
        server.node.clock.advance(timedelta(hours=2))
        await until_status(anonymous, plain, (410, "recording_deleted"))
        # The row says so first, then the files go (Recorder.delete).
        await wait_until(lambda: not (files / plain).exists())
        assert await status_of(anonymous, reported) == (200, None)

        # Resolved: the normal rule applies at the next check.
        decision = {"status": "dismissed", "reason": "Nothing against the rules"}
        await mod.call("POST", f"/admin/reports/{made['id']}/resolve", 200, json=decision)
        server.node.clock.advance(timedelta(minutes=2))
        await until_status(anonymous, reported, (410, "recording_deleted"))
        await wait_until(lambda: not (files / reported).exists())
        # Retention is no moderator: nothing of it in the audit log.
        audited = await mod.call("GET", "/admin/audit?action=recording_delete", 200)
        assert audited == []
    finally:
        await anonymous.aclose()
        for person in (mod, host, alice):
            await person.close()


async def test_a_suspended_hosts_recordings_are_hidden_and_a_moderators_deletion_is_audited(
    server: ServerThread,
) -> None:
    mod = await admin(server, "mod")
    host = await Person.sign_up(server.base_url, "host")
    alice = await Person.sign_up(server.base_url, "alice")
    anonymous = http_client(base_url=f"{server.base_url}/api/v1", timeout=10)
    try:
        sid = await record_briefly(host, alice, "Soon hidden")
        clip = await alice.call(
            "POST", f"/spaces/{sid}/clips", 201, json={"start_seconds": 0, "duration_seconds": 1}
        )
        await suspend(mod, "host")
        for path in (
            f"/spaces/{sid}/recording",
            f"/spaces/{sid}/recording/replay.m3u8",
            f"/spaces/{sid}/recording/download",
            f"/clips/{clip['id']}",
            f"/clips/{clip['id']}/audio",
        ):
            await alice.refused("GET", path, 404, "recording_hidden")
            r = await anonymous.get(path)
            assert r.status_code == 404 and r.json()["code"] == "recording_hidden", path
        await mod.call(
            "POST", "/admin/accounts/host/unsuspend", 200, json={"reason": "Appeal upheld"}
        )
        assert await status_of(anonymous, sid) == (200, None)

        removal = {"rule": "harassment", "reason": "Threats in the recording"}
        await alice.refused(
            "DELETE", f"/admin/spaces/{sid}/recording", 403, "moderators_only", json=removal
        )
        await mod.call("DELETE", f"/admin/spaces/{sid}/recording", 204, json=removal)
        r = await anonymous.get(f"/spaces/{sid}/recording")
        assert r.status_code == 410 and r.json()["code"] == "recording_deleted"
        assert r.json()["deletion"] == "moderator"
        await mod.refused(
            "DELETE", f"/admin/spaces/{sid}/recording", 410, "recording_deleted", json=removal
        )
        (entry,) = await mod.call("GET", "/admin/audit?action=remove_recording", 200)
        assert (entry["target_type"], entry["target_id"]) == ("recording", sid)
        assert (entry["actor_id"], entry["rule"]) == (mod.id, "harassment")
        assert entry["reason"] == "Threats in the recording"
    finally:
        await anonymous.aclose()
        for person in (mod, host, alice):
            await person.close()


async def test_a_removed_recording_is_explained_to_its_host_and_comes_back_on_appeal(
    server: ServerThread,
) -> None:
    mod, other_mod = await admin(server, "mod"), await admin(server, "mod2")
    host = await Person.sign_up(server.base_url, "host")
    alice = await Person.sign_up(server.base_url, "alice")
    anonymous = http_client(base_url=f"{server.base_url}/api/v1", timeout=10)
    files = Path(server.settings.data_dir) / "recordings"
    removal = {"rule": "harassment", "reason": "Threats in the recording"}
    try:
        sid = await record_briefly(host, alice, "Late show")
        clip = await alice.call(
            "POST", f"/spaces/{sid}/clips", 201, json={"start_seconds": 0, "duration_seconds": 1}
        )
        await mod.call("DELETE", f"/admin/spaces/{sid}/recording", 204, json=removal)
        assert await status_of(anonymous, sid) == (410, "recording_deleted")
        await alice.refused("GET", f"/clips/{clip['id']}/audio", 410, "recording_deleted")
        assert (files / sid).is_dir()  # hidden, kept for an appeal
        server.call(server.node.recorder.recover())  # what a node does as it starts
        assert (files / sid).is_dir()

        # The host is told what, which rule, why, and that they may appeal.
        (notice,) = await host.call("GET", "/me/notices", 200)
        assert notice["action"] == "remove_recording" and notice["rule"] == "harassment"
        assert notice["text"].startswith("The recording of your space (“Late show”) was removed")
        assert "Threats in the recording" in notice["text"]
        (told,) = await host.call("GET", "/me/notifications", 200)
        assert told["kind"] == "recording_removed"
        assert told["data"] == {"space_id": sid, "notice_id": notice["id"], "rule": "harassment"}

        # Appealed: retention holds it while the appeal is open.
        appeal = await host.call(
            "POST", "/appeals", 201, json={"notice_id": notice["id"], "text": "It was a play"}
        )
        server.node.clock.advance(timedelta(days=2))
        await sweeps(server, 3)
        assert (files / sid).is_dir()

        # Overturned: the recording, its clip and its segments are back, for everyone.
        decision = {"decision": "overturned", "reason": "A scripted scene"}
        await other_mod.call("POST", f"/admin/appeals/{appeal['id']}/decide", 200, json=decision)
        assert await status_of(anonymous, sid) == (200, None)
        assert (await anonymous.get(f"/clips/{clip['id']}/audio")).status_code == 200
        playlist = (await anonymous.get(f"/spaces/{sid}/recording/replay.m3u8")).text
        segment = next(line for line in playlist.splitlines() if line.endswith(".ts"))
        assert (await anonymous.get(f"/spaces/{sid}/recording/{segment}")).status_code == 200
        restored = await mod.call("GET", "/admin/audit?action=restore_recording", 200)
        assert [(e["target_id"], e["actor_id"]) for e in restored] == [(sid, other_mod.id)]

        # Removed again, and upheld this time: the next retention check deletes the files; the
        # recording still says a moderator deleted it.
        await mod.call("DELETE", f"/admin/spaces/{sid}/recording", 204, json=removal)
        second = next(
            n for n in await host.call("GET", "/me/notices", 200) if n["id"] != notice["id"]
        )
        appeal = await host.call(
            "POST", "/appeals", 201, json={"notice_id": second["id"], "text": "Again?"}
        )
        server.node.clock.advance(timedelta(minutes=2))
        await sweeps(server, 3)
        assert (files / sid).is_dir()
        decision = {"decision": "upheld", "reason": "Not the first time"}
        await other_mod.call("POST", f"/admin/appeals/{appeal['id']}/decide", 200, json=decision)
        server.node.clock.advance(timedelta(minutes=2))
        deadline = time.monotonic() + 10
        while (files / sid).exists():
            assert time.monotonic() < deadline, "the upheld removal's files were kept"
            await asyncio.sleep(0.1)
        r = await anonymous.get(f"/spaces/{sid}/recording")
        assert (r.status_code, r.json()["deletion"]) == (410, "moderator")
        report = (await anonymous.get("/transparency")).json()["actions"]
        counted = {(c["action"], c["rule"]): c["count"] for c in report}
        assert counted[("remove_recording", "harassment")] == 2
        assert counted[("restore_recording", "appeal")] == 1
    finally:
        await anonymous.aclose()
        for person in (mod, other_mod, host, alice):
            await person.close()


async def test_a_recording_removed_live_and_restored_live_ends_where_it_was_removed(
    server: ServerThread,
) -> None:
    """Removal stops a live recording there; restored while the space goes on, it stays as it
    was then, a whole recording, rather than taking segments after its end."""
    mod, other_mod = await admin(server, "mod"), await admin(server, "mod2")
    host, alice = [await Person.sign_up(server.base_url, h) for h in ("host", "alice")]
    body = {"title": "Still going", "recording": True}
    sid = (await host.call("POST", "/spaces", 201, json=body))["id"]
    await alice.call("POST", f"/spaces/{sid}/join", 200)
    await bring_on_stage(host, alice, sid)
    singing = await MediaClient.connect(alice, sid, tone=440.0)
    try:
        await recorded_segments(alice, sid, 2)
        removal = {"rule": "harassment", "reason": "Threats"}
        await mod.call("DELETE", f"/admin/spaces/{sid}/recording", 204, json=removal)
        (notice,) = await host.call("GET", "/me/notices", 200)
        appeal = await host.call(
            "POST", "/appeals", 201, json={"notice_id": notice["id"], "text": "Fine"}
        )
        decision = {"decision": "overturned", "reason": "Out of context"}
        await other_mod.call("POST", f"/admin/appeals/{appeal['id']}/decide", 200, json=decision)
        kept = await host.call("GET", f"/spaces/{sid}/recording", 200)
        assert kept["state"] == "complete"
        # The space goes on: three more segments of it come and go live.
        await _live_segments_past(host, sid, 3)
        after = await host.call("GET", f"/spaces/{sid}/recording", 200)
        assert after["segments"] == kept["segments"]
        playlist = (await host.http.get(f"/spaces/{sid}/recording/replay.m3u8")).text
        assert playlist.rstrip().endswith("#EXT-X-ENDLIST")
        assert playlist.count(".ts") == kept["segments"]
    finally:
        await alice.call("DELETE", f"/spaces/{sid}/media", 204)
        await singing.close()
        for person in (mod, other_mod, host, alice):
            await person.close()


async def _live_segments_past(person: Person, sid: str, more: int) -> None:
    def newest(playlist: str) -> int:
        lines = playlist.splitlines()
        first = next(int(x.split(":")[1]) for x in lines if x.startswith("#EXT-X-MEDIA-SEQUENCE"))
        return first + sum(1 for x in lines if x.startswith("#EXTINF")) - 1

    start = newest((await person.http.get(f"/spaces/{sid}/hls/live.m3u8")).text)
    deadline = time.monotonic() + 20
    while newest((await person.http.get(f"/spaces/{sid}/hls/live.m3u8")).text) < start + more:
        assert time.monotonic() < deadline, "the live stream did not go on"
        await asyncio.sleep(0.2)
