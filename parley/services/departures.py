"""Taking accounts out of everything live at once, when they may no longer be anywhere: a
moderator suspended them, or their owner deactivated them (a person deleting their account, a
person deleting a bot).

The caller commits the change of state first, with every session revoked. Then this node forgets
the accounts (their cached sessions, the spaces they host as shown publicly), the bus tells every
node to close what they hold open (the caller's `orders`), and each account leaves each space it
is in through the spaces' own decisions, with an event each. Each node's sweep repeats the last
step from the database (and its sweep of sessions the closing), so a lost bus message or a crash
half-way delays it by one sweep interval, never forever.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from parley.bus import messages
from parley.bus.base import Bus
from parley.core.accounts import Departure
from parley.core.session_cache import SessionCache
from parley.core.spaces import rules as space_rules
from parley.core.spaces.events import Event
from parley.core.spaces.model import SpaceState
from parley.services.common import Clock
from parley.services.decisions import SpaceDecisions
from parley.services.sharing import SharingService
from parley.store.db import Database
from parley.store.withdrawals import WithdrawalStore


@dataclass(eq=False)
class Departures:
    db: Database
    bus: Bus
    decisions: SpaceDecisions
    sharing: SharingService
    # The node's cache of authenticated sessions (AccountService's).
    session_cache: SessionCache
    _: KW_ONLY
    clock: Clock

    async def carry_out(
        self, why: Departure, account_ids: Sequence[str], orders: Sequence[messages.Order]
    ) -> None:
        """After the transaction that suspended or deactivated `account_ids`."""
        gone = set(account_ids)
        # This node before it answers; the others as the bus tells them.
        self.session_cache.forget_accounts(gone)
        self.sharing.forget_hosts(gone)
        for order in orders:
            await messages.publish(self.bus, order)
        for account_id in account_ids:
            async with self.db.read() as conn:
                space_ids = await WithdrawalStore(conn).spaces_to_leave(account_id)
            for space_id in space_ids:
                await self._take_out(space_id, account_id, why)

    async def sweep(self) -> None:
        still_inside = await self.db.read_whole(
            lambda conn: WithdrawalStore(conn).withdrawn_still_inside()
        )
        for space_id, account_id, why in still_inside:
            await self._take_out(space_id, account_id, why)

    async def _take_out(self, space_id: str, account_id: str, why: Departure) -> None:
        async def decide(state: SpaceState, _conn: AsyncConnection) -> list[Event]:
            return space_rules.depart(state, account_id, self.clock(), why)

        await self.decisions.decide(space_id, [account_id], decide)
