"""One space across several nodes (issue 12): the stage is mixed on the space's home node, and
every other node with listeners relays that program to them. Real `parley serve` processes on
PostgreSQL and Redis; the tests reach each node directly, as a load balancer would send them.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import time
from collections import deque
from collections.abc import Awaitable

import pytest

from tests.support.audio import HEARD_DBFS, MediaClient, tone_level
from tests.support.clients import Person, bring_on_stage
from tests.support.cluster import cluster, kill, people
from tests.support.moderation import suspend

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

# Far apart: a 20 ms piece is analysed on its own, and a near tone would leak into its bin.
HOST_TONE, SPEAKER_TONE, GUEST_TONE = 440.0, 1200.0, 2000.0


async def test_listeners_on_other_nodes_hear_the_stage_and_lose_a_muted_or_suspended_voice() -> (
    None
):
    async with cluster(3) as deployment:
        a, b, c = deployment.nodes
        deployment.admin("mod")
        mod = await Person.sign_in(c.base, "mod")
        host, speaker = await people(a, "host", "speaker")
        # The guest speaks through node b: its offer is passed on to the home, node a.
        (guest,) = await people(b, "guest")
        on_b, on_c = (await people(b, "lis_b"))[0], (await people(c, "lis_c"))[0]
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

            muted_after = await _gone_after(
                ears, SPEAKER_TONE, host.call("POST", f"/spaces/{sid}/mute/speaker", 204)
            )
            suspended_after = await _gone_after(ears, GUEST_TONE, suspend(mod, "guest"))  # via c
            for ear in ears:
                assert ear.hearing.hears(HOST_TONE)  # the relay goes on
            print(f"after a mute returned, silent on b and c after {muted_after} ms")
            print(f"after a suspension returned, silent on b and c after {suspended_after} ms")
            # Issue 12: both within 500 ms at relayed listeners (about 100 ms on a quiet
            # machine, as on one node).
            assert max(suspended_after) <= 500
            assert max(muted_after) <= 500
        finally:
            await asyncio.gather(*(m.close() for m in clients + ears))
            for person in (mod, host, speaker, guest, on_b, on_c):
                await person.close()


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
        a, b, c = deployment.nodes
        host, speaker = await people(a, "host", "speaker")
        on_b, on_c = (await people(b, "lis_b"))[0], (await people(c, "lis_c"))[0]
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
        streams = {p.handle: [p.events(sid)] for p in (host, speaker, on_b, on_c)}
        moved: list[Person] = []
        try:
            for [stream] in streams.values():
                await stream.__aenter__()
                await stream.wait_for("snapshot")
            for ear in ears:
                await ear.hearing.until("hears", HOST_TONE, timeout=10)
                await ear.hearing.until("hears", SPEAKER_TONE, timeout=10)

            kill(a)
            killed = time.monotonic()
            # What the web client does (web/js/space/connect.js, media.js): its event socket
            # drops, it comes back (here through node b, as a load balancer would send it)
            # after its last event, and offers its media again until it is answered.
            for person in (host, speaker):
                old = streams[person.handle][0]
                await old.wait_closed(timeout=5)
                again = Person(b.base, person.handle, person.token, person.account)
                moved.append(again)
                new = again.events(sid, since=old.events[-1]["seq"] if old.events else None)
                streams[person.handle].append(await new.__aenter__())
            stage = {
                "host": await _offer_until_answered(moved[0], sid, HOST_TONE, killed + 10),
                "speaker": await _offer_until_answered(moved[1], sid, SPEAKER_TONE, killed + 10),
            }
            for ear in ears:
                await ear.hearing.until("hears", HOST_TONE, timeout=killed + 10 - time.monotonic())
                await ear.hearing.until("hears", SPEAKER_TONE, timeout=1)
            await stage["host"].hearing.until("hears", SPEAKER_TONE, timeout=1)
            await stage["speaker"].hearing.until("hears", HOST_TONE, timeout=1)
            print(f"every client hears the stage {time.monotonic() - killed:.1f} s after the kill")

            await moved[0].call("PATCH", f"/spaces/{sid}", 200, json={"title": "Still here"})
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
            for person in (host, speaker, on_b, on_c, *moved):
                await person.close()


async def _offer_until_answered(
    person: Person, space_id: str, tone: float, deadline: float
) -> MediaClient:
    """Offers again until answered: while the dead home's lease runs, nobody mixes the space
    (503 `home_unreachable`)."""
    while True:
        try:
            return await MediaClient.connect(person, space_id, tone=tone)
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


async def test_a_node_stopped_with_sigterm_hands_its_spaces_on_without_a_long_gap() -> None:
    # The default lease (6 s): a drained node hands its spaces over, nobody waits for a lease.
    async with cluster(3) as deployment:
        a, b, c = deployment.nodes
        (host,) = await people(a, "host")
        on_b, on_c = (await people(b, "lis_b"))[0], (await people(c, "lis_c"))[0]
        sid = (await host.call("POST", "/spaces", 201, json={"title": "Drained"}))["id"]
        for person in (on_b, on_c):
            await person.call("POST", f"/spaces/{sid}/join", 200)
        await host.call("POST", f"/spaces/{sid}/unmute", 204)
        voice = await MediaClient.connect(host, sid, tone=HOST_TONE)  # node a is the home
        ears = [await MediaClient.connect(on_b, sid), await MediaClient.connect(on_c, sid)]
        moved = Person(b.base, host.handle, host.token, host.account)
        try:
            async with host.events(sid) as stream:
                await stream.wait_for("snapshot")
                for ear in ears:
                    await ear.hearing.until("hears", HOST_TONE, timeout=10)
                    ear.hearing.chunks = deque(ear.hearing.chunks, maxlen=50 * 30)  # keep 30 s
                stopped = time.monotonic()
                os.kill(a.pid, signal.SIGTERM)
                # The event socket closes (1012, "service restart"): the web client comes back
                # through another node and offers its media again.
                await stream.wait_closed(timeout=5)
            await voice.close()
            voice = await _offer_until_answered(moved, sid, HOST_TONE, stopped + 10)
            for ear in ears:
                await ear.hearing.until("hears", HOST_TONE, timeout=stopped + 10 - time.monotonic())
            await asyncio.sleep(0.5)
            gaps = [_longest_gap(ear, HOST_TONE, since=stopped - 0.5) for ear in ears]
            print(f"longest gap at the listeners on b and c: {gaps} s")
            assert max(gaps) <= 2.0
        finally:
            await asyncio.gather(*(m.close() for m in [voice, *ears]))
            for person in (host, moved, on_b, on_c):
                await person.close()


def _longest_gap(client: MediaClient, tone: float, *, since: float) -> float:
    """The longest time between two 20 ms pieces of received audio carrying the tone."""
    chunks = client.hearing.chunks
    heard = [at for at, pcm in chunks if at >= since and tone_level(pcm, tone) >= HEARD_DBFS]
    return max(b - a for a, b in itertools.pairwise(heard))
