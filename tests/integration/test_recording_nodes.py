"""A recording across nodes: the space's home records it into the one directory every node
shares (`PARLEY_RECORDINGS_DIR`), so its replay plays whole from any node, also after the home
moved mid-way (a drain hands the space to another node, which records on). Real `parley serve`
processes on PostgreSQL and Redis behind nginx (deploy/nginx/parley-nodes.conf)."""

from __future__ import annotations

import os
import signal
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.audio import MediaClient
from tests.support.clients import http_client
from tests.support.cluster import cluster, offer_until_answered, stops_answering
from tests.support.gateway import gateway
from tests.support.media_files import dominant_frequency, vod_entries
from tests.support.recordings import complete, recorded_segments

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

TONE = 440.0


async def test_a_recording_whose_home_moved_replays_whole_from_every_node(
    tmp_path: Path,
) -> None:
    shared = {"PARLEY_RECORDINGS_DIR": str(tmp_path / "recordings")}
    async with cluster(3, **shared) as deployment:
        gw = deployment.stack.enter_context(gateway(deployment.nodes))
        a, b, c = deployment.nodes
        host = await gw.person_on(a, "host")
        body = {"title": "Moving home", "recording": True}
        sid = (await host.call("POST", "/spaces", 201, json=body))["id"]
        await host.call("POST", f"/spaces/{sid}/unmute", 204)
        voice = await MediaClient.connect(host, sid, tone=TONE)  # node a becomes the home
        try:
            before = (await recorded_segments(host, sid, 2))["segments"]
            moved_at = datetime.now(UTC)
            os.kill(a.pid, signal.SIGTERM)  # a drain: the space's home moves to b or c
            # Until it stops accepting, node a answers offers too (and the connection dies
            # with it): the web client learns of the drain from its audio stopping.
            await stops_answering(a, timeout=10)
            await voice.close()
            voice = await offer_until_answered(host, sid, TONE, time.monotonic() + 20)
            await recorded_segments(host, sid, before + 2)
            await host.call("POST", f"/spaces/{sid}/end", 200)
        finally:
            await voice.close()
            await host.close()
        for node in (b, c):
            async with http_client(base_url=f"{node.base}/api/v1") as anonymous:
                info = await complete(anonymous, sid, timeout=30)
                started = datetime.fromisoformat(info["started_at"])
                ended = datetime.fromisoformat(info["ended_at"])
                assert started < moved_at < ended
                replay = (await anonymous.get(f"/spaces/{sid}/recording/replay.m3u8")).text
                segments = vod_entries(replay)
                assert len(segments) == info["segments"] >= before + 2
                for name, seconds in segments:  # written by two homes, each served here
                    segment = await anonymous.get(f"/spaces/{sid}/recording/{name}")
                    assert segment.status_code == 200, (node.base, name, segment.text)
                    if seconds >= 1.0:  # (a home's last one may be a sliver)
                        assert abs(dominant_frequency(segment.content) - TONE) < 5, name
