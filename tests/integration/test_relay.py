"""One space across several nodes (issue 12): the stage is mixed on the space's home node, and
every other node with listeners relays that program to them. Real `parley serve` processes on
PostgreSQL and Redis; the tests reach each node directly, as a load balancer would send them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable

import pytest

from tests.support.audio import MediaClient
from tests.support.clients import Person, bring_on_stage
from tests.support.cluster import cluster, people
from tests.support.moderation import suspend

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

HOST_TONE, SPEAKER_TONE, GUEST_TONE = 440.0, 660.0, 880.0


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
            assert max(muted_after + suspended_after) <= 500
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
        await ear.hearing.until("silent_at", tone, timeout=2)
        after = ear.hearing.silent_since(tone, started)
        assert after is not None, "heard again"
        gone.append(round(1000 * (after - (returned - started))))
    return gone
