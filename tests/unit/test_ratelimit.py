"""The rate-limit arithmetic, the client address it counts by, and the limiter's fallback."""

from __future__ import annotations

import asyncio
import os
import threading
from ipaddress import ip_network

import pytest
from hypothesis import given
from hypothesis import strategies as st
from redis.exceptions import ConnectionError as RedisConnectionError

from parley.core.errors import Unavailable
from parley.core.ratelimit import (
    Decision,
    LimitName,
    Rate,
    RateLimited,
    client_address,
    decide,
    limit_table,
    parse_rate,
)
from parley.services.passwords import LOWEST_PRIORITY, Passwords
from parley.services.ratelimit import MemoryStore, RateLimiter


def run(rate: Rate, times: list[float]) -> list[bool]:
    tat: float | None = None
    allowed = []
    for now in times:
        decision = decide(tat, now, rate)
        tat = decision.tat
        allowed.append(decision.allowed)
    return allowed


def test_a_burst_of_count_passes_then_one_per_interval() -> None:
    rate = Rate(5, 10)  # a burst of 5, then one every 2 s
    assert run(rate, [0.0] * 6) == [True] * 5 + [False]
    assert run(rate, [0.0] * 5 + [1.9, 2.0, 2.1]) == [True] * 5 + [False, True, False]


def test_a_refusal_says_when_to_come_back_and_hammering_does_not_push_it_out() -> None:
    rate = Rate(2, 10)
    tat = decide(decide(None, 0.0, rate).tat, 0.0, rate).tat
    first = decide(tat, 1.0, rate)
    assert not first.allowed and first.retry_after == pytest.approx(4.0)
    for now in (1.5, 2.0, 3.0):  # refused requests leave the state as it was
        refused = decide(first.tat, now, rate)
        assert not refused.allowed and refused.tat == first.tat
    assert decide(first.tat, 5.0, rate).allowed


@given(
    count=st.integers(1, 20),
    period=st.floats(0.5, 100),
    gaps=st.lists(st.floats(0, 5), min_size=1, max_size=200),
)
def test_no_window_lets_more_through_than_the_burst_plus_the_rate(
    count: int, period: float, gaps: list[float]
) -> None:
    rate = Rate(count, period)
    times = [sum(gaps[: i + 1]) for i in range(len(gaps))]
    allowed = [t for t, ok in zip(times, run(rate, times), strict=True) if ok]
    for i, start in enumerate(allowed):
        inside = [t for t in allowed[i:] if t - start <= period]
        # Over any span w, GCRA admits at most the burst plus w / interval.
        assert len(inside) <= count + int(period / rate.interval + 1e-9)


def test_rates_parse_and_print() -> None:
    assert parse_rate("10/min") == Rate(10, 60)
    assert parse_rate("5/30s") == Rate(5, 30)
    assert parse_rate("100/h") == Rate(100, 3600)
    assert str(Rate(10, 60)) == "10/min" and str(Rate(5, 30)) == "5/30s"
    for bad in ("ten/min", "0/min", "5/0s", "5", "5/week"):
        with pytest.raises(ValueError):
            parse_rate(bad)


def test_overrides_apply_and_a_misspelt_limit_is_an_error() -> None:
    table = limit_table({"posts": "3/min"})
    assert table[LimitName.POSTS].rate == Rate(3, 60)
    assert table[LimitName.REACTIONS].rate == limit_table({})[LimitName.REACTIONS].rate
    with pytest.raises(ValueError, match="no rate limit named 'post'"):
        limit_table({"post": "3/min"})


def test_rate_limited_rounds_the_wait_up_to_whole_seconds() -> None:
    limit = limit_table({})[LimitName.POSTS]
    refusal = RateLimited(limit, 0.2)
    assert refusal.status == 429 and refusal.code == "rate_limited"
    assert (refusal.limit.name, refusal.retry_after) == (LimitName.POSTS, 1)
    assert RateLimited(limit, 4.01).retry_after == 5


PROXY = [ip_network("10.0.0.0/8")]


def test_forwarded_for_counts_only_behind_a_trusted_proxy() -> None:
    # Not from a trusted proxy: the header is the client's own words.
    assert client_address("203.0.113.9", ["198.51.100.1"], PROXY) == "203.0.113.9"
    # From the proxy: the address the proxy saw.
    assert client_address("10.0.0.2", ["198.51.100.1"], PROXY) == "198.51.100.1"
    # A client prepending a fake hop gains nothing: the proxy appends what it saw, read first.
    assert client_address("10.0.0.2", ["1.2.3.4, 198.51.100.1"], PROXY) == "198.51.100.1"
    # Two proxies in a row are both skipped.
    assert client_address("10.0.0.2", ["198.51.100.1, 10.0.0.7"], PROXY) == "198.51.100.1"
    # Garbage in the header never becomes a key the client chose.
    assert client_address("10.0.0.2", ["not-an-address"], PROXY) == "10.0.0.2"


def test_ipv6_clients_count_per_64_and_mapped_ipv4_as_ipv4() -> None:
    assert client_address("2001:db8:1:2:aaaa::1", [], []) == "2001:db8:1:2::/64"
    assert client_address("2001:db8:1:2:bbbb::9", [], []) == "2001:db8:1:2::/64"
    assert client_address("::ffff:192.0.2.7", [], []) == "192.0.2.7"


class FailingStore(MemoryStore):
    async def hit(self, key: str, now: float, rate: Rate) -> Decision:
        raise RedisConnectionError("connection refused")

    async def knows(self, key: str, now: float) -> bool:
        raise RedisConnectionError("connection refused")


async def test_when_redis_fails_each_node_still_limits_on_its_own() -> None:
    limiter = RateLimiter(limit_table({"posts": "2/min"}), FailingStore(), clock=lambda: 100.0)
    await limiter.check(LimitName.POSTS, "ada")
    await limiter.check(LimitName.POSTS, "ada")
    with pytest.raises(RateLimited):
        await limiter.check(LimitName.POSTS, "ada")
    assert limiter.fallbacks == 3 and limiter.refused[LimitName.POSTS] == 1
    assert not await limiter.known_address("ada", "192.0.2.1")


async def test_the_memory_store_forgets_keys_whose_time_has_passed() -> None:
    store = MemoryStore()
    store.PRUNE_ABOVE = 10
    for i in range(11):
        await store.hit(f"k{i}", 0.0, Rate(1, 1))
    await store.hit("late", 5.0, Rate(1, 1))
    assert set(store._tats) == {"late"}


async def test_argon2_work_beyond_the_queue_is_refused_not_queued() -> None:
    passwords = Passwords(time_cost=2, memory_kib=8192, concurrency=1, queue=1)
    results = await asyncio.gather(
        *(passwords.hash("a long password") for _ in range(4)), return_exceptions=True
    )
    busy = [r for r in results if isinstance(r, Unavailable)]
    assert len(busy) == 2 and all(b.code == "busy" for b in busy)
    assert busy[0].retry_after == 1
    assert passwords.gate.pending == 0 and passwords.gate.refused == 2


async def test_the_known_never_wait_for_strangers_nor_are_refused() -> None:
    gate = Passwords(time_cost=1, memory_kib=8192, concurrency=1, queue=1).gate
    release = threading.Event()

    def stranger_hash() -> str:
        release.wait(10)  # a stranger's hash that takes as long as the test wants
        return "stranger"

    strangers = [asyncio.create_task(gate.run(stranger_hash, known=False)) for _ in range(3)]
    await asyncio.sleep(0)  # the strangers take their lane's slot and its queue
    # With the strangers' lane full and its hash still running, the owner's is done at once.
    assert await asyncio.wait_for(gate.run(lambda: "owner", known=True), 5) == "owner"
    release.set()
    results = await asyncio.gather(*strangers, return_exceptions=True)
    assert results[:2] == ["stranger", "stranger"]
    assert isinstance(results[2], Unavailable)  # the queue held one stranger
    assert gate.pending == 0
    gate.close()


async def test_strangers_hash_at_the_lowest_cpu_priority_and_the_known_at_the_usual() -> None:
    gate = Passwords(time_cost=1, memory_kib=8192, concurrency=1).gate

    def my_nice() -> int:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    usual = os.getpriority(os.PRIO_PROCESS, 0)
    assert await gate.run(my_nice, known=False) == LOWEST_PRIORITY
    assert await gate.run(my_nice, known=True) == usual
    gate.close()


async def test_a_busy_refusal_is_answered_late_too() -> None:
    passwords = Passwords(time_cost=1, memory_kib=8192, concurrency=1, queue=0, refusal_delay=0.2)
    loop = asyncio.get_running_loop()
    first = asyncio.create_task(passwords.hash("first"))
    await asyncio.sleep(0)
    started = loop.time()
    with pytest.raises(Unavailable):
        await passwords.hash("second")
    assert loop.time() - started >= 0.2  # a flood waiting for its answers slows down
    await first


async def test_a_caller_giving_up_in_the_queue_leaves_no_slot_taken() -> None:
    passwords = Passwords(time_cost=1, memory_kib=8192, concurrency=1, queue=4)
    running = asyncio.create_task(passwords.hash("first"))
    await asyncio.sleep(0)
    waiting = asyncio.create_task(passwords.hash("second"))
    await asyncio.sleep(0)
    waiting.cancel()
    await running
    assert passwords.gate.pending == 0
    assert await passwords.hash("third")


async def test_a_refusal_is_answered_late_to_slow_a_flood() -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    table = limit_table({"posts": "1/min"})
    limiter = RateLimiter(table, MemoryStore(), refusal_delay=0.5, clock=lambda: 0.0, sleep=sleep)
    await limiter.check(LimitName.POSTS, "ada")
    assert slept == []  # an allowed request is not held up
    with pytest.raises(RateLimited):
        await limiter.check(LimitName.POSTS, "ada")
    assert slept == [0.5]
