"""Fan-out on one node: order, no duplicates, and a stuck client never holds up the others."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from parley.bus import MemoryBus
from parley.bus.messages import space_channel
from parley.services.fanout import CLOSE_RESYNC, CLOSE_SPACE_OVER, Client, FanoutHub, pump


class FakeSpaces:
    """The two reads a feed makes of the space service."""

    async def seq(self, space_id: str) -> int:
        return 0

    async def events_after(self, space_id: str, since: int) -> list[Any]:
        return []


# What a publisher sends for a known type of event: the whole of its payload.
KNOWN_DATA = {
    "reaction": {"account_id": "b", "handle": "bea", "emoji": "👏"},
    "space_ended": {"reason": "ended", "ended_at": "2026-01-01T00:00:00+00:00"},
}


def event(seq: int, type_: str = "reaction", **data: Any) -> str:
    data = data or KNOWN_DATA.get(type_, {})
    return json.dumps({"seq": seq, "type": type_, "at": "2026-01-01T00:00:00+00:00", "data": data})


async def make_hub(capacity: int = 8) -> tuple[MemoryBus, FanoutHub]:
    bus = MemoryBus()
    await bus.start()
    return bus, FanoutHub(bus, FakeSpaces(), capacity)  # type: ignore[arg-type]


async def sent_until_closed(messages: list[str]) -> tuple[int, list[str]]:
    """Publish these on a space's channel to one client; its close code and what it was sent."""
    bus, hub = await make_hub(capacity=1000)
    client = Client("a")
    feed = await hub.attach("s", client)
    sent: list[str] = []

    async def send(message: str) -> None:
        sent.append(message)

    task = asyncio.create_task(pump(feed, client, send, batch=False))
    for message in messages:
        await bus.publish(space_channel("s"), message)
    async with asyncio.timeout(5):
        code, _ = await task
    await hub.close()
    return code, sent


async def test_clients_get_every_event_once_in_order() -> None:
    # Duplicates, as a bus may deliver after a gap fill.
    code, sent = await sent_until_closed(
        [event(seq) for seq in [1, 2, 2, 3, 1, 4]] + [event(5, "space_ended")]
    )
    assert code == CLOSE_SPACE_OVER
    assert [json.loads(m)["seq"] for m in sent] == [1, 2, 3, 4, 5]


async def test_events_of_a_type_only_a_newer_node_knows_are_forwarded_in_their_place() -> None:
    newer = event(2, "poll_opened", question="?")
    code, sent = await sent_until_closed([event(1), newer, event(3), event(4, "space_ended")])
    assert code == CLOSE_SPACE_OVER
    assert [json.loads(m)["seq"] for m in sent] == [1, 2, 3, 4]
    assert sent[1] == newer


async def test_batched_frames_carry_waiting_events_as_one_array() -> None:
    bus, hub = await make_hub(capacity=1000)
    client = Client("a")
    feed = await hub.attach("s", client)
    frames: list[Any] = []

    async def send(message: str) -> None:
        frames.append(json.loads(message))

    for seq in range(1, 6):
        await bus.publish(space_channel("s"), event(seq))
    await asyncio.sleep(0.05)  # all five are in the log before the client's task runs
    await bus.publish(space_channel("s"), event(6, "space_ended"))
    await asyncio.sleep(0.05)
    async with asyncio.timeout(5):
        await pump(feed, client, send, batch=True)
    flat = [e for f in frames for e in (f if isinstance(f, list) else [f])]
    assert [e["seq"] for e in flat] == [1, 2, 3, 4, 5, 6]
    assert len(frames) < 6
    await hub.close()


async def test_a_stuck_client_does_not_slow_the_others_and_is_told_to_resync() -> None:
    bus, hub = await make_hub(capacity=8)
    fast, stuck = Client("fast"), Client("stuck")
    feed = await hub.attach("s", fast)
    await hub.attach("s", stuck)
    received: list[str] = []
    release = asyncio.Event()
    stuck_sent: list[str] = []

    async def fast_send(message: str) -> None:
        received.append(message)

    async def stuck_send(message: str) -> None:
        stuck_sent.append(message)
        await release.wait()  # a client whose socket never drains

    fast_task = asyncio.create_task(pump(feed, fast, fast_send, batch=False))
    stuck_task = asyncio.create_task(pump(feed, stuck, stuck_send, batch=False))
    for seq in range(1, 41):
        await bus.publish(space_channel("s"), event(seq))
        await asyncio.sleep(0.006)  # past the flush interval: each event is its own wake-up
    async with asyncio.timeout(5):
        while len(received) < 40:
            await asyncio.sleep(0.01)
    assert [json.loads(m)["seq"] for m in received] == list(range(1, 41))
    assert not stuck_task.done()

    release.set()  # the stuck socket drains: it is now far behind and must resync
    async with asyncio.timeout(5):
        code, _ = await stuck_task
    assert code == CLOSE_RESYNC
    assert json.loads(stuck_sent[-1])["type"] == "resync"
    fast_task.cancel()
    await hub.close()


async def test_the_last_client_leaving_stops_the_feed() -> None:
    bus, hub = await make_hub()
    client = Client("a")
    feed = await hub.attach("s", client)
    hub.detach("s", client)
    await asyncio.sleep(0)
    assert "s" not in hub.feeds
    async with asyncio.timeout(5):
        while not feed.task.done():
            await asyncio.sleep(0.01)
    await bus.close()
