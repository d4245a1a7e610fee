"""The same behaviour from both buses: in-process, and Redis shared by several nodes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from parley.bus import Bus, MemoryBus
from parley.bus.redis import RedisBus
from tests.support.prerequisites import missing
from tests.support.servers import REDIS_URL


async def _redis_problem() -> str | None:
    client = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    finally:
        await client.aclose()
    return None


async def _started(kind: str) -> Bus:
    if kind == "memory":
        bus: Bus = MemoryBus()
    else:
        problem = await _redis_problem()
        if problem:
            missing(f"Redis not reachable at 127.0.0.1:6379: {problem}")
        bus = RedisBus(REDIS_URL)
    await bus.start()
    return bus


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[Bus]:
    started = await _started(request.param)
    yield started
    await started.close()


def channel() -> str:
    return f"test:{uuid.uuid4().hex}"


async def take(sub: object, n: int) -> list[str]:
    got: list[str] = []
    async with asyncio.timeout(5):
        async for message in sub:  # type: ignore[attr-defined]
            got.append(message)
            if len(got) == n:
                return got
    return got


async def test_every_subscriber_gets_every_message_in_order(bus: Bus) -> None:
    ch = channel()
    async with bus.subscribe(ch) as a, bus.subscribe(ch) as b:
        for i in range(1000):
            await bus.publish(ch, str(i))
        expected = [str(i) for i in range(1000)]
        assert await take(a, 1000) == expected
        assert await take(b, 1000) == expected


async def test_messages_published_together_arrive_in_order_on_their_channels(bus: Bus) -> None:
    one, two = channel(), channel()
    async with bus.subscribe(one) as a, bus.subscribe(two) as b:
        await bus.publish(one, "before")
        await bus.publish_many([(one, "1"), (two, "x"), (one, "2"), (one, "3"), (two, "y")])
        await bus.publish_many([(two, "alone")])
        await bus.publish_many([])
        await bus.publish(one, "after")
        assert await take(a, 5) == ["before", "1", "2", "3", "after"]
        assert await take(b, 3) == ["x", "y", "alone"]


async def test_channels_do_not_leak_into_each_other(bus: Bus) -> None:
    one, two = channel(), channel()
    async with bus.subscribe(one) as sub:
        await bus.publish(two, "not for you")
        await bus.publish(one, "for you")
        assert await take(sub, 1) == ["for you"]


async def test_after_leaving_nothing_more_arrives(bus: Bus) -> None:
    ch = channel()
    async with bus.subscribe(ch) as stays:
        async with bus.subscribe(ch) as leaves:
            await bus.publish(ch, "1")
            assert await take(leaves, 1) == ["1"]
        await bus.publish(ch, "2")
        assert await take(stays, 2) == ["1", "2"]


async def test_close_ends_iteration(bus: Bus) -> None:
    ch = channel()
    async with bus.subscribe(ch) as sub:
        waiter = asyncio.create_task(take(sub, 1))
        await asyncio.sleep(0.05)
        await bus.close()
        async with asyncio.timeout(5):
            assert await waiter == []


@pytest.mark.redis
async def test_two_nodes_hear_each_other() -> None:
    node_a, node_b = await _started("redis"), await _started("redis")
    try:
        ch = channel()
        async with node_a.subscribe(ch) as on_a, node_b.subscribe(ch) as on_b:
            await node_a.publish(ch, "from a")
            await node_b.publish(ch, "from b")
            assert await take(on_a, 2) == ["from a", "from b"]
            assert await take(on_b, 2) == ["from a", "from b"]
    finally:
        await node_a.close()
        await node_b.close()


@pytest.mark.redis
async def test_redis_bus_comes_back_after_its_connection_is_killed() -> None:
    problem = await _redis_problem()
    if problem:
        missing(f"Redis not reachable at 127.0.0.1:6379: {problem}")
    # Its connections carry a name of their own, and only they are killed: every other test
    # (and developer) on this Redis keeps its bus.
    name = f"parley-test-{uuid.uuid4().hex}"
    bus: Bus = RedisBus(f"{REDIS_URL}?client_name={name}")
    await bus.start()
    admin = Redis.from_url(REDIS_URL)
    try:
        ch = channel()
        async with bus.subscribe(ch) as sub:
            ours = [c for c in await admin.client_list(_type="pubsub") if c["name"] == name]
            assert len(ours) == 1, ours  # the bus's one subscription connection
            await admin.client_kill_filter(_id=ours[0]["id"])
            received: list[str] = []

            async def keep_publishing() -> None:
                i = 0
                while not received:
                    await bus.publish(ch, f"after {i}")
                    i += 1
                    await asyncio.sleep(0.1)

            publisher = asyncio.create_task(keep_publishing())
            received.extend(await take(sub, 1))
            publisher.cancel()
            assert received[0].startswith("after")
            # Heard over a new connection: the killed one did not carry it.
            now = [c for c in await admin.client_list(_type="pubsub") if c["name"] == name]
            assert [c["id"] for c in now] != [ours[0]["id"]], now
    finally:
        await admin.aclose()
        await bus.close()
