"""Fan-out on one node: order, no duplicates, and a stuck client never holds up the others."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

from parley.bus import MemoryBus
from parley.bus.messages import space_channel
from parley.core.spaces.model import Participant, Role, SpaceStatus
from parley.services.fanout import FanoutHub
from parley.services.feed import CLOSE_RESYNC, CLOSE_SPACE_OVER, Client, pump
from parley.services.views import StageSnapshot

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class FakeSpaces:
    """The reads a feed makes of the space service."""

    def __init__(self, stage: tuple[str, ...] = ()) -> None:
        self.on_stage = tuple(Participant(a, a, Role.HOST, T0, T0) for a in stage)

    async def seq(self, space_id: str) -> int:
        return 0

    async def stage(self, space_id: str) -> StageSnapshot:
        return StageSnapshot(space_id, SpaceStatus.LIVE, 0, self.on_stage)

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


async def make_hub(
    capacity: int = 8, stage: tuple[str, ...] = (), exact_audience: int = 0
) -> tuple[MemoryBus, FanoutHub]:
    """A hub whose audiences are large (sent churn as counts) unless `exact_audience` says
    up to how many sockets they are small."""
    bus = MemoryBus()
    await bus.start()
    spaces = FakeSpaces(stage)
    hub = FanoutHub(bus, spaces, capacity, exact_audience_sockets=exact_audience)  # type: ignore[arg-type]
    return bus, hub


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


def joined(seq: int, who: str) -> str:
    return event(
        seq,
        "participant_joined",
        account_id=who,
        handle=who,
        role="listener",
        muted=True,
        listener_count=seq,
    )


async def rush(exact_audience: int) -> dict[str, list[dict[str, Any]]]:
    """What the host (on stage) and ada (a listener) are sent while sixty listeners join in a
    rush, ada among them, and someone reacts half-way."""
    bus, hub = await make_hub(capacity=1000, stage=("host",), exact_audience=exact_audience)
    host, ada = Client("host"), Client("ada")
    feed = await hub.attach("s", host)
    await hub.attach("s", ada)
    got: dict[str, list[dict[str, Any]]] = {"host": [], "ada": []}

    def sender(name: str) -> Any:
        async def send(message: str) -> None:
            got[name].append(json.loads(message))

        return send

    tasks = [
        asyncio.create_task(pump(feed, c, sender(c.account_id), batch=False)) for c in (host, ada)
    ]
    for seq in range(1, 62):
        if seq == 40:
            await bus.publish(space_channel("s"), event(seq, "reaction"))
        else:
            await bus.publish(space_channel("s"), joined(seq, "ada" if seq == 25 else f"l{seq}"))
        await asyncio.sleep(0.001)
    async with asyncio.timeout(5):
        while not got["ada"] or got["ada"][-1]["seq"] < 61:
            await asyncio.sleep(0.01)
    for task in tasks:
        task.cancel()
    await hub.close()
    return got


async def test_a_large_audience_hears_a_rush_of_joins_as_counts_and_the_stage_hears_each() -> None:
    got = await rush(exact_audience=0)
    assert [m["seq"] for m in got["host"]] == list(range(1, 62))  # the stage: every join
    heard = got["ada"]
    seqs = [m["seq"] for m in heard]
    assert seqs == sorted(set(seqs))  # in order, nothing twice
    assert len(heard) < 15  # a handful of counts, not sixty joins
    assert heard[-1]["seq"] == 61 and heard[-1]["data"]["listener_count"] == 61
    assert sum(m["type"] == "listener_count" for m in heard) >= 2
    # Its own join, and events for everyone, reach it as they are.
    assert {"participant_joined": 25, "reaction": 40}.items() <= {
        m["type"]: m["seq"] for m in heard if m["seq"] in (25, 40)
    }.items()
    # A count stands for every event up to its seq, so the client sees no gap before an event.
    for before, message in zip([{"seq": 0}, *heard], heard, strict=False):
        assert message["type"] == "listener_count" or message["seq"] == before["seq"] + 1
    # Each count stands for the churn before it: no count goes backwards.
    counts = [m["data"]["listener_count"] for m in heard if "listener_count" in m["data"]]
    assert counts == sorted(counts)


async def test_a_small_audience_hears_each_listener_come_as_the_stage_does() -> None:
    """Two sockets, at most two sent everything: ada's list of listeners has each of them."""
    got = await rush(exact_audience=2)
    assert [m["seq"] for m in got["ada"]] == list(range(1, 62))
    assert got["ada"] == got["host"]
    assert "listener_count" not in {m["type"] for m in got["ada"]}


async def test_an_audience_is_small_by_the_nodes_sockets_not_one_workers() -> None:
    bus = MemoryBus()
    await bus.start()
    spaces = FakeSpaces(())
    one = FanoutHub(bus, spaces, 8, exact_audience_sockets=3)  # type: ignore[arg-type]
    two = FanoutHub(bus, spaces, 8, workers=2, exact_audience_sockets=3)  # type: ignore[arg-type]
    ada = Client("ada")
    alone = await one.attach("s", ada)
    shared = await two.attach("s", ada)
    shared.add(Client("bob"))  # two here, two in the other worker: four on the node
    assert alone.sends_everything(ada) and not shared.sends_everything(ada)
    await one.close()
    await two.close()
    await bus.close()


async def test_the_audience_is_spaced_by_the_nodes_sockets_not_one_workers() -> None:
    """Two workers each holding 2,000 of a space's 4,000 sockets send counts no more often than
    one worker holding all 4,000: the node's sends a second stay the same."""
    one_worker = FanoutHub(MemoryBus(), FakeSpaces(()), 8)  # type: ignore[arg-type]
    two_workers = FanoutHub(MemoryBus(), FakeSpaces(()), 8, workers=2)  # type: ignore[arg-type]
    for hub in (one_worker, two_workers):
        await hub.bus.start()
    whole = await one_worker.attach("s", Client("c0"))
    half = await two_workers.attach("s", Client("c0"))
    for i in range(1, 4000):
        whole.add(Client(f"c{i}"))
        if i < 2000:
            half.add(Client(f"c{i}"))
    assert (len(whole.clients), len(half.clients)) == (4000, 2000)
    assert half.audience_interval() == whole.audience_interval() == 2.0
    for hub in (one_worker, two_workers):
        await hub.close()
