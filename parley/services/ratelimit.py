"""The one rate-limit mechanism: GCRA state in Redis when several nodes run, in memory otherwise.

Every limit of `core.ratelimit` goes through `RateLimiter.check`, whether the API applies it to a
route or a service applies it inside an operation (sign-in, which must refuse before argon2).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from parley.core.ratelimit import Decision, Limit, LimitName, Rate, RateLimited, decide

log = logging.getLogger(__name__)

# Seconds since the epoch: on several nodes, the same time base for everyone's keys.
WallClock = Callable[[], float]

# How long an address that signed in to an account is remembered as that account's own.
KNOWN_ADDRESS_SECONDS = 30 * 24 * 3600.0


class LimitStore(Protocol):
    async def hit(self, key: str, now: float, rate: Rate) -> Decision: ...

    async def remember(self, key: str, now: float, seconds: float) -> None: ...

    async def knows(self, key: str, now: float) -> bool: ...

    async def close(self) -> None: ...


class MemoryStore:
    """One node's limits. Keys expire by themselves: a key whose arrival time has passed says
    nothing a fresh key would not, so it is dropped when the table grows."""

    PRUNE_ABOVE = 100_000

    def __init__(self) -> None:
        self._tats: dict[str, float] = {}
        self._known: dict[str, float] = {}

    async def hit(self, key: str, now: float, rate: Rate) -> Decision:
        decision = decide(self._tats.get(key), now, rate)
        if decision.allowed:
            self._tats[key] = decision.tat
            if len(self._tats) > self.PRUNE_ABOVE:
                self._tats = {k: t for k, t in self._tats.items() if t > now}
        return decision

    async def remember(self, key: str, now: float, seconds: float) -> None:
        self._known[key] = now + seconds
        if len(self._known) > self.PRUNE_ABOVE:
            self._known = {k: t for k, t in self._known.items() if t > now}

    async def knows(self, key: str, now: float) -> bool:
        return self._known.get(key, 0.0) > now

    async def close(self) -> None:
        return None


# GCRA in one round trip, atomic across nodes. Floats travel as strings: Redis would truncate a
# Lua number to an integer on the way back.
_GCRA = """
local tat = tonumber(redis.call('GET', KEYS[1]))
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local period = tonumber(ARGV[3])
local start = now
if tat and tat > now then start = tat end
local new_tat = start + interval
local allowed_at = new_tat - period
if allowed_at > now then
  return {0, tostring(start), tostring(allowed_at - now)}
end
redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.ceil((new_tat - now) * 1000) + 1)
return {1, tostring(new_tat), '0'}
"""


class RedisStore:
    def __init__(self, url: str, prefix: str) -> None:
        self._redis: Redis = Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self._prefix = prefix
        self._script = self._redis.register_script(_GCRA)

    async def hit(self, key: str, now: float, rate: Rate) -> Decision:
        allowed, tat, retry = await self._script(
            keys=[self._prefix + key], args=[repr(now), repr(rate.interval), repr(rate.period)]
        )
        return Decision(bool(allowed), float(tat), float(retry))

    async def remember(self, key: str, now: float, seconds: float) -> None:
        await self._redis.set(self._prefix + key, b"1", px=int(seconds * 1000))

    async def knows(self, key: str, now: float) -> bool:
        return bool(await self._redis.exists(self._prefix + key))

    async def close(self) -> None:
        await self._redis.aclose()


class RateLimiter:
    """Checks requests against the limit table. With Redis, an outage does not take the site
    down with it: each node limits on its own, in memory, until Redis answers again."""

    def __init__(
        self,
        table: Mapping[LimitName, Limit],
        store: LimitStore,
        *,
        enabled: bool = True,
        refusal_delay: float = 0.0,
        clock: WallClock = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.table = table
        self.enabled = enabled
        self._store = store
        self._fallback = MemoryStore()
        # A refusal is answered this late: a client that waits for each answer (most floods do)
        # slows down to a few requests a second per connection, at no cost to the node.
        self.refusal_delay = refusal_delay
        self.clock = clock  # public: tests move it instead of waiting
        self._sleep = sleep
        self._outage_logged_at = float("-inf")
        # For /metrics: refusals per limit, and checks answered locally because Redis was down.
        self.refused: Counter[LimitName] = Counter()
        self.fallbacks = 0

    async def check(self, name: LimitName, key: str) -> None:
        """Counts one request under `key`, or raises RateLimited (429) if it is one too many."""
        if not self.enabled:
            return
        limit = self.table[name]
        decision = await self._hit(f"{name.value}:{key}", limit.rate)
        if not decision.allowed:
            self.refused[name] += 1
            if self.refusal_delay:
                await self._sleep(self.refusal_delay)
            raise RateLimited(limit, decision.retry_after)

    async def remember_address(self, account_id: str, address: str) -> None:
        """This address signed in to this account: its owner's, not an attacker's."""
        if self.enabled:
            key = f"known:{account_id}:{address}"
            try:
                await self._store.remember(key, self.clock(), KNOWN_ADDRESS_SECONDS)
            except (RedisError, OSError) as error:
                self._outage(error)
                await self._fallback.remember(key, self.clock(), KNOWN_ADDRESS_SECONDS)

    async def known_address(self, account_id: str, address: str) -> bool:
        key = f"known:{account_id}:{address}"
        try:
            return await self._store.knows(key, self.clock())
        except (RedisError, OSError) as error:
            self._outage(error)
            return await self._fallback.knows(key, self.clock())

    async def _hit(self, key: str, rate: Rate) -> Decision:
        now = self.clock()
        try:
            return await self._store.hit(key, now, rate)
        except (RedisError, OSError) as error:
            self._outage(error)
            return await self._fallback.hit(key, now, rate)

    def _outage(self, error: Exception) -> None:
        self.fallbacks += 1
        now = time.monotonic()
        if now - self._outage_logged_at > 30:
            self._outage_logged_at = now
            log.warning("rate limits: Redis unreachable (%s); limiting per node meanwhile", error)

    async def close(self) -> None:
        await self._store.close()
