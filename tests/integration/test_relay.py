"""One space across several nodes (issue 12): the stage is mixed on the space's home node, and
every other node with listeners relays that program to them. Real `parley serve` processes on
PostgreSQL and Redis behind Debian's nginx running deploy/nginx/parley-nodes.conf: every client
goes through nginx, and finds its media on a given node by the session nginx hashes there
(tests/support/gateway.py).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import time
from collections import deque
from collections.abc import Awaitable
from pathlib import Path

import pytest

from bench.common import ServerProcess
from tests.support.audio import HEARD_DBFS, MediaClient, tone_level
from tests.support.clients import Person, bring_on_stage, http_client
from tests.support.cluster import (
    PARLEY,
    Deployment,
    cluster,
    kill,
    offer_until_answered,
    stops_answering,
)
from tests.support.gateway import Gateway, gateway
from tests.support.moderation import suspend

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

# Far apart: a 20 ms piece is analysed on its own, and a near tone would leak into its bin.
HOST_TONE, SPEAKER_TONE, GUEST_TONE = 440.0, 1200.0, 2000.0


async def test_listeners_on_other_nodes_hear_the_stage_and_lose_a_muted_or_suspended_voice() -> (
    None
):
    async with cluster(3) as deployment:
        gw = _gateway(deployment)
        a, b, c = deployment.nodes
        await deployment.admin("mod")
        mod = await Person.sign_in(gw.base, "mod")
        host, speaker = await gw.person_on(a, "host"), await gw.person_on(a, "speaker")
        # The guest speaks through node b: its offer is passed on to the home, node a.
        guest = await gw.person_on(b, "guest")
        on_b, on_c = await gw.person_on(b, "lis_b"), await gw.person_on(c, "lis_c")
        sid = (await host.call("POST", "/spaces", 201, json={"title": "Across nodes"}))["id"]
        for person in (speaker, guest, on_b, on_c):
            await person.call("POST", f"/spaces/{sid}/join", 200)
        await host.call("POST", f"/spaces/{sid}/unmute", 204)
        await bring_on_stage(host, speaker, sid)
        await bring_on_stage(host, guest, sid)
        clients = [
            await MediaClient.connect(host, sid, tone=HOST_TONE),  # node a becomes the home
            await MediaClient.connect(speaker, sid, tone=SPEAKER_TONE),
            await MediaClient.connect(guest, sid, tone=GUEST_TONE),
        ]
        ears = [await MediaClient.connect(on_b, sid), await MediaClient.connect(on_c, sid)]
        try:
            for ear in ears:
                for tone in (HOST_TONE, SPEAKER_TONE, GUEST_TONE):
                    await ear.hearing.until("hears", tone, timeout=10)
            # The guest's own connection is with the home (it hears the others, not itself).
            await clients[2].hearing.until("hears", HOST_TONE)
            await _hls_found_on_the_home(gw, sid, [b, c])

            muted_after = await _gone_after(
                ears, SPEAKER_TONE, host.call("POST", f"/spaces/{sid}/mute/speaker", 204)
            )
            suspended_after = await _gone_after(ears, GUEST_TONE, suspend(mod, "guest"))  # via c
            for ear in ears:
                # The relay goes on (heard within a moment: on a loaded machine the last 200 ms
                # may be a pause in arrivals, as _silent_for_good allows).
                await ear.hearing.until("hears", HOST_TONE, timeout=2)
            print(f"after a mute returned, silent on b and c after {muted_after} ms")
            print(f"after a suspension returned, silent on b and c after {suspended_after} ms")
            # The promise a listener would notice: gone within the second DESIGN.md gives a
            # suspension. Issue 12's tighter target (500 ms at relayed listeners; about 100 ms
            # on a quiet machine) is a speed figure, measured by bench/suspension.py on pinned
            # cores: under this suite's load one run here took 521 ms.
            assert max(suspended_after) <= 1000
            assert max(muted_after) <= 1000
        finally:
            await asyncio.gather(*(m.close() for m in clients + ears))
            for person in (mod, host, speaker, guest, on_b, on_c):
                await person.close()


def _gateway(deployment: Deployment) -> Gateway:
    """nginx in front of the deployment's nodes, stopped with it."""
    return deployment.stack.enter_context(gateway(deployment.nodes))


async def _hls_found_on_the_home(gw: Gateway, space_id: str, others: list[ServerProcess]) -> None:
    """Only the home segments the space (the other nodes say 404); through nginx, which tries
    each node in turn, any listener gets its playlist."""
    path = f"/api/v1/spaces/{space_id}/hls/live.m3u8"
    async with http_client(timeout=10) as http:
        # Node to node only: nginx answers for /internal/ itself.
        internal = await http.get(f"{gw.base}/internal/v1/spaces/{space_id}/media")
        assert internal.status_code == 404
        assert "nginx" in internal.text
        for other in others:
            direct = await http.get(other.base + path)
            assert direct.status_code == 404, direct.text
            assert direct.json()["code"] == "hls_not_started"
        for _ in range(3):
            through = await http.get(gw.base + path)
            assert through.status_code == 200, through.text
            assert through.text.startswith("#EXTM3U")


async def _gone_after(
    ears: list[MediaClient], tone: float, decision: Awaitable[object]
) -> list[int]:
    """Milliseconds from the decision's answer to the last of the tone at each ear."""
    started = time.monotonic()
    await decision
    returned = time.monotonic()
    print(f"the decision took {1000 * (returned - started):.0f} ms")
    gone = []
    for ear in ears:
        after = await _silent_for_good(ear, tone, started)
        gone.append(round(1000 * (after - (returned - started))))
    return gone


async def _silent_for_good(ear: MediaClient, tone: float, started: float) -> float:
    """Seconds from `started` to the last of the tone, once 300 ms of audio have followed
    without it (a pause in arrivals on a busy machine is not silence)."""
    deadline = time.monotonic() + 3
    while True:
        after = ear.hearing.silent_since(tone, started)
        if after is not None:
            since = started + after
            if sum(1 for at, _pcm in ear.hearing.chunks if at >= since) >= 15:
                return after
        assert time.monotonic() < deadline, f"{tone} Hz still heard"
        await asyncio.sleep(0.05)


async def test_a_killed_home_node_hands_the_space_on_and_everyone_is_back_within_10_s() -> None:
    # Short, so the space moves soon after the kill; not so short that a renewal late on a busy
    # machine loses it.
    lease = {"PARLEY_HOME_LEASE_SECONDS": "3"}
    async with cluster(3, **lease) as deployment:
        gw = _gateway(deployment)
        a, b, c = deployment.nodes
        host, speaker = await gw.person_on(a, "host"), await gw.person_on(a, "speaker")
        on_b, on_c = await gw.person_on(b, "lis_b"), await gw.person_on(c, "lis_c")
        everyone = {p.handle: p for p in (host, speaker, on_b, on_c)}
        sid = (await host.call("POST", "/spaces", 201, json={"title": "Survives"}))["id"]
        for person in (speaker, on_b, on_c):
            await person.call("POST", f"/spaces/{sid}/join", 200)
        await host.call("POST", f"/spaces/{sid}/unmute", 204)
        await bring_on_stage(host, speaker, sid)
        stage = {
            "host": await MediaClient.connect(host, sid, tone=HOST_TONE),
            "speaker": await MediaClient.connect(speaker, sid, tone=SPEAKER_TONE),
        }
        ears = [await MediaClient.connect(on_b, sid), await MediaClient.connect(on_c, sid)]
        streams = {p.handle: [p.events(sid)] for p in everyone.values()}
        try:
            for [stream] in streams.values():
                await stream.__aenter__()
                await stream.wait_for("snapshot")
            # nginx spreads event sockets over the nodes; those on node a will drop.
            on_a = [h for h, [stream] in streams.items() if gw.socket_node(stream) is a]
            print(f"event sockets on the home node: {on_a}")
            for ear in ears:
                await ear.hearing.until("hears", HOST_TONE, timeout=10)
                await ear.hearing.until("hears", SPEAKER_TONE, timeout=10)

            kill(a)
            killed = time.monotonic()
            # What the web client does (web/js/space/connect.js, media.js): its event socket
            # drops, it comes back through nginx (to another node) after its last event, and
            # offers its media again until it is answered.
            for handle in on_a:
                old = streams[handle][0]
                await old.wait_closed(timeout=5)
                since = old.events[-1]["seq"] if old.events else None
                new = await everyone[handle].events(sid, since=since).__aenter__()
                assert gw.socket_node(new) is not a
                streams[handle].append(new)
            await asyncio.gather(*(m.close() for m in stage.values()))
            stage = {
                "host": await offer_until_answered(host, sid, HOST_TONE, killed + 10),
                "speaker": await offer_until_answered(speaker, sid, SPEAKER_TONE, killed + 10),
            }
            for ear in ears:
                await ear.hearing.until("hears", HOST_TONE, timeout=killed + 10 - time.monotonic())
                await ear.hearing.until("hears", SPEAKER_TONE, timeout=1)
            await stage["host"].hearing.until("hears", SPEAKER_TONE, timeout=1)
            await stage["speaker"].hearing.until("hears", HOST_TONE, timeout=1)
            print(f"every client hears the stage {time.monotonic() - killed:.1f} s after the kill")

            await host.call("PATCH", f"/spaces/{sid}", 200, json={"title": "Still here"})
            for handle, [*_, stream] in streams.items():
                await stream.wait_for("space_updated", timeout=killed + 10 - time.monotonic())
                seqs = [e["seq"] for s in streams[handle] for e in s.events]
                assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), (handle, seqs)
        finally:
            for opened in streams.values():
                for stream in opened:
                    if stream._ws is not None:
                        await stream.__aexit__(None, None, None)
            await asyncio.gather(*(m.close() for m in [*stage.values(), *ears]))
            for person in everyone.values():
                await person.close()


@pytest.mark.parametrize("how", ["SIGTERM", "parley admin drain"])
async def test_a_drained_node_hands_its_spaces_on_without_a_long_gap(how: str) -> None:
    # The default lease (6 s): a drained node hands its spaces over, nobody waits for a lease.
    # Node a says what it does with its spaces (info), for a failure's message.
    async with cluster(3, PARLEY_LOG_LEVEL="info") as deployment:
        gw = _gateway(deployment)
        a, b, c = deployment.nodes
        host = await gw.person_on(a, "host")
        on_b, on_c = await gw.person_on(b, "lis_b"), await gw.person_on(c, "lis_c")
        sid = (await host.call("POST", "/spaces", 201, json={"title": "Drained"}))["id"]
        for person in (on_b, on_c):
            await person.call("POST", f"/spaces/{sid}/join", 200)
        await host.call("POST", f"/spaces/{sid}/unmute", 204)
        voice = await MediaClient.connect(host, sid, tone=HOST_TONE)  # node a is the home
        ears = [await MediaClient.connect(on_b, sid), await MediaClient.connect(on_c, sid)]
        node_a = await _node_id(deployment, a) if how != "SIGTERM" else ""
        drain: asyncio.subprocess.Process | None = None
        streams = [await host.events(sid).__aenter__()]
        try:
            await streams[0].wait_for("snapshot")
            for ear in ears:
                await ear.hearing.until("hears", HOST_TONE, timeout=10)
                ear.hearing.chunks = deque(ear.hearing.chunks, maxlen=50 * 30)  # keep 30 s
            stopped = time.monotonic()
            if how == "SIGTERM":
                os.kill(a.pid, signal.SIGTERM)
            else:
                # Through the bus, from anywhere: no signal, no access to node a's machine.
                drain = await asyncio.create_subprocess_exec(
                    *PARLEY, "admin", "drain", node_a,
                    env={**os.environ, **deployment.env},
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                )  # fmt: skip
                assert drain.stdout is not None
                told = await asyncio.wait_for(drain.stdout.readline(), 30)
                assert b"told to drain" in told, told + (await drain.communicate())[1]
                stopped = time.monotonic()  # the command's own start-up is not the node's
            # The web client learns it from its event socket when that was on node a (1012,
            # "service restart"; it comes back through nginx), else from its audio stopping;
            # it offers again, and nginx passes the offer to another node.
            if gw.socket_node(streams[0]) is a:
                await streams[0].wait_closed(timeout=10)
                print(f"event socket closed {time.monotonic() - stopped:.1f} s after the order")
                since = streams[0].events[-1]["seq"] if streams[0].events else None
                streams.append(await host.events(sid, since=since).__aenter__())
            else:
                await stops_answering(a, timeout=10)
                print(f"node a refused connections {time.monotonic() - stopped:.1f} s after")
            await voice.close()
            voice = await offer_until_answered(host, sid, HOST_TONE, stopped + 12)
            print(f"the host's voice answered again {time.monotonic() - stopped:.1f} s after")
            for ear in ears:
                await ear.hearing.until("hears", HOST_TONE, timeout=stopped + 12 - time.monotonic())
            await asyncio.sleep(0.5)
            gaps = [_longest_gap(ear, HOST_TONE, since=stopped - 0.5) for ear in ears]
            print(f"{how}: longest gap at the listeners on b and c: {gaps} s")
            assert max(gaps) <= 2.0, _homing_lines(a)
            if drain is not None:
                out, err = await asyncio.wait_for(drain.communicate(), 60)
                assert drain.returncode == 0, err.decode()
                assert out.decode().strip() == f"node {node_a} drained"
            await _exits(a, timeout=30)
            # And its operator reads what became of the space (parley's own log, at info).
            said = a.log_path.read_text(errors="replace")
            assert f"space {sid}: let go of its home here" in said or (
                f"space {sid}: handed over to" in said
            ), _homing_lines(a)
        finally:
            if drain is not None and drain.returncode is None:
                drain.kill()
                await drain.wait()
            for stream in streams:
                await stream.__aexit__(None, None, None)
            await asyncio.gather(*(m.close() for m in [voice, *ears]))
            for person in (host, on_b, on_c):
                await person.close()


def _homing_lines(node: ServerProcess) -> str:
    """What the node said about its spaces' homes and its going away: why a hand-over was late."""
    said = node.log_path.read_text(errors="replace").splitlines()
    words = ("parley", "drain", "shutdown", "Shutting", "Waiting", "Traceback", "Error")
    lines = [line[-200:] for line in said if any(w in line for w in words) and "HTTP/" not in line]
    return "\n".join(lines)[-3000:]


async def _node_id(deployment: Deployment, node: ServerProcess) -> str:
    """The node's id, as `parley admin nodes` lists the running nodes."""
    listing = await asyncio.create_subprocess_exec(
        *PARLEY, "admin", "nodes",
        env={**os.environ, **deployment.env},
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await listing.communicate()
    for line in out.decode().splitlines():
        node_id, url, *_ = line.split()
        if url == node.base:
            return node_id
    raise AssertionError(f"{node.base} is not listed: {out.decode()}")


async def _exits(node: ServerProcess, timeout: float) -> None:
    """The node's process ended (a child of ours: a zombie until the cluster reaps it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _running(node.pid):
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"node {node.base} still running")


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _longest_gap(client: MediaClient, tone: float, *, since: float) -> float:
    """The longest time between two 20 ms pieces of received audio carrying the tone."""
    chunks = client.hearing.chunks
    heard = [at for at, pcm in chunks if at >= since and tone_level(pcm, tone) >= HEARD_DBFS]
    return max(b - a for a, b in itertools.pairwise(heard))
