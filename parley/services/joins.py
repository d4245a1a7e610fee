"""Joining a space: the joins queued behind a space's transaction decided together in the next
one (batches.py), and the tickets that let the event socket following a join skip presence's
read and write (core.spaces.join_tickets)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass, field
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from parley.config import Settings
from parley.core.errors import RuleViolation
from parley.core.moderation import Feature
from parley.core.spaces import rules
from parley.core.spaces.events import Event
from parley.core.spaces.join_tickets import JoinTicket, JoinTickets
from parley.core.spaces.model import Participant, SpaceState
from parley.core.tokens import AccountRef
from parley.services.accounts import Caller
from parley.services.batches import Batches
from parley.services.common import Clock
from parley.services.connection_counts import ConnectionCounts
from parley.services.decisions import SpaceDecisions
from parley.services.features import FeatureSwitches
from parley.store.accounts import SocialStore
from parley.store.db import Database
from parley.store.presence import PresenceStore
from parley.store.spaces import SpaceStore
from parley.store.tokens import BotStore

# Expired tickets handed back per transaction: short enough not to hold joins up behind it.
HAND_BACK_CHUNK = 100


@dataclass(frozen=True)
class Joining:
    """One account asking to join, as queued for its space's next batch of joins."""

    account_id: str
    handle: str
    socket_follows: bool


@dataclass(frozen=True)
class Joined:
    """A join's outcome: who the joiner is in the space, and, for a bot, its owner (what the
    "automated" label names), read in the join's own transaction."""

    participant: Participant
    bot_owner: AccountRef | None


@dataclass(eq=False)
class JoinService:
    db: Database
    decisions: SpaceDecisions
    features: FeatureSwitches
    settings: Settings
    # Every count of this node's connections goes through it (connection_counts.py).
    counts: ConnectionCounts
    _: KW_ONLY
    clock: Clock
    # Joins whose socket is expected next on this node, for `settings.connect_wait_seconds`:
    # the count a join added is taken back then.
    tickets: JoinTickets = field(init=False)
    batches: Batches[str, Joining, Joined] = field(init=False)
    followers: Batches[str, str, bool] = field(init=False)

    def __post_init__(self) -> None:
        self.tickets = JoinTickets(timedelta(seconds=self.settings.connect_wait_seconds))
        self.batches = Batches(self._join_together)
        self.followers = Batches(self._follow_together)

    async def join(self, caller: Caller, space_id: str, *, socket_follows: bool = False) -> Joined:
        """`socket_follows`: the event socket the caller opens next is counted here, in the
        join's own transaction, and finds a ticket on this node (core.spaces.join_tickets).
        Joins to one space that queue behind its transaction share the next one (batches.py)."""
        me = caller.account
        return await self.batches.submit(space_id, Joining(me.id, me.handle, socket_follows))

    async def _join_together(
        self, space_id: str, joinings: Sequence[Joining]
    ) -> list[Joined | Exception]:
        """One transaction for every join in the batch; a refusal is its own joiner's."""
        ids = list(dict.fromkeys(j.account_id for j in joinings))
        outcomes: list[Participant | Exception] = []
        owners: dict[str, AccountRef] = {}
        seqs: dict[str, int] = {}

        async def decide(state: SpaceState, conn: AsyncConnection) -> list[Event]:
            outcomes.clear()  # a retried transaction decides afresh
            seqs.clear()
            # In the joins' own transaction: no connection of its own for the switches.
            await self.features.require_in(conn, Feature.SPACES)
            host = state.space.host_id
            blocked = await SocialStore(conn).blocked_among(host, ids)
            owners.update(await BotStore(conn).owners_of(ids))
            now = self.clock()
            events: list[Event] = []
            for j in joinings:
                try:
                    mine = rules.join(
                        state, j.account_id, j.handle, now, blocked_by_host=j.account_id in blocked
                    )
                except RuleViolation as refusal:
                    outcomes.append(refusal)
                    continue
                outcomes.append(state.participants[j.account_id])
                events += mine
                if mine and j.socket_follows:
                    seqs[j.account_id] = mine[-1].seq
            return events

        async with self.counts.counting() as changes:

            async def count_sockets(_events: list[Event], conn: AsyncConnection) -> None:
                await PresenceStore(conn).connected_many(space_id, list(seqs), self.counts.holder)
                changes.clear()  # a retried transaction counts afresh
                changes.opened(space_id, list(seqs))

            await self.decisions.decide(space_id, ids, decide, count_sockets)
        for account_id, seq in seqs.items():
            await self._issue(JoinTicket(space_id, account_id, seq, self.clock()))
        return [
            o if isinstance(o, Exception) else Joined(o, owners.get(o.account_id)) for o in outcomes
        ]

    async def expect_socket(self, space_id: str, account_id: str, seq: int) -> None:
        """A participant made otherwise than by joining (a host starting their space) opens
        their socket next: counted now, with a ticket as a join leaves (`seq`: the event that
        made them one), and away if it never comes."""
        await self.counts.opened(space_id, account_id)
        await self._issue(JoinTicket(space_id, account_id, seq, self.clock()))

    async def _issue(self, ticket: JoinTicket) -> None:
        replaced = self.tickets.issue(ticket)
        if replaced is not None:
            await self._unclaimed([replaced])

    async def follow(self, space_id: str, account_id: str) -> bool:
        """For an event socket with no ticket: the refusal they would get joining (removed,
        blocked by the host), or whether their socket was counted (not for a space that does
        not exist). One who never joined is counted by node only, and their socket is in the
        count their join makes, if they join. Sockets of one space that arrive together (on a
        sibling worker of their join's, or reconnecting after a drain) share one read and one
        write, as joins do."""
        return await self.followers.submit(space_id, account_id)

    async def _follow_together(
        self, space_id: str, account_ids: Sequence[str]
    ) -> list[bool | Exception]:
        unique = list(dict.fromkeys(account_ids))
        async with self.db.read() as conn:
            store = SpaceStore(conn)
            found = await store.participants_among(space_id, unique)
            space = await store.get(space_id)
            blocked = set[str]()
            if space is not None:
                blocked = await SocialStore(conn).blocked_among(space.host_id, unique)
        outcomes: list[bool | Exception] = []
        counted: list[str] = []
        for account_id in account_ids:
            participant = found.get(account_id)
            try:
                rules.check_may_follow(participant, blocked_by_host=account_id in blocked)
            except RuleViolation as refusal:
                outcomes.append(refusal)
                continue
            outcomes.append(space is not None)
            if space is not None:
                counted.append(account_id)
        once = list(dict.fromkeys(counted))
        # Two sockets of one account in one batch: the second is counted in a transaction of
        # its own (one statement may not update a row twice, and two updates of one row in a
        # transaction may deadlock on PostgreSQL).
        again = list((Counter(counted) - Counter(once)).elements())
        for ids in (once, *([a] for a in again)):
            if ids:
                await self.counts.opened_together(space_id, ids)
        return outcomes

    async def close(self) -> None:
        await self.batches.close()
        await self.followers.close()

    async def hand_back_tickets(self) -> None:
        """Take back the counts of joins whose socket never came to this node: after a rush
        on several workers, hundreds a second, so a few transactions take them all."""
        expired = self.tickets.expired(self.clock())
        for start in range(0, len(expired), HAND_BACK_CHUNK):
            await self._unclaimed(expired[start : start + HAND_BACK_CHUNK])

    async def _unclaimed(self, tickets: Sequence[JoinTicket]) -> None:
        async def hand_back(conn: AsyncConnection) -> None:
            store = PresenceStore(conn)
            now = self.clock()
            for t in tickets:
                await store.unclaimed(t.space_id, t.account_id, self.counts.holder, now)

        async with self.counts.counting() as changes:
            await self.db.write_whole(hand_back)
            for t in tickets:
                changes.closed(t.space_id, t.account_id)
