"""A person deletes their own account: deactivation, for good.

One transaction, once the password is found right: the account is deactivated, every session
and API token of it revoked, its held posts dropped, and every bot of theirs deleted the same
way (services/bots.py). Then, as a suspension is enforced (services/departures.py), every node
closes their sockets and media and they leave every space: a live space they host passes to a
cohost or ends, a scheduled one is cancelled.

What stays: the account's row, so its handle is never taken again by someone else and its
moderation history (actions, notices, appeals, reports) is kept. What goes from sight: its
profile, its posts, its spaces' pages and replays, as for a deleted bot.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass

from parley.core import accounts as rules
from parley.core.accounts import Departure
from parley.core.errors import Unauthenticated
from parley.services import bots
from parley.services.accounts import AccountService, Caller
from parley.services.common import Clock
from parley.services.departures import Departures
from parley.store.accounts import AccountStore
from parley.store.db import Database
from parley.store.restrictions import RestrictionStore
from parley.store.tokens import BotStore


@dataclass(eq=False)
class Deactivation:
    db: Database
    # Whose password check a deletion shares with a password change.
    accounts: AccountService
    departures: Departures
    _: KW_ONLY
    clock: Clock

    async def deactivate(self, caller: Caller, password: str) -> None:
        """Only with the account's password."""
        await self.accounts.confirm_password(caller, password)
        me, now = caller.account.id, self.clock()
        async with self.db.write() as conn:
            accounts = AccountStore(conn)
            # As it is now, and held until this commits: a suspension or another deletion may
            # have come since the request was authenticated, or be on its way.
            account = await RestrictionStore(conn).locked(account_id=me)
            if account is None:
                raise Unauthenticated("invalid_token", "Sign in again: this token is not valid")
            rules.check_may_deactivate(
                account,
                is_bot=await BotStore(conn).owner_account(me) is not None,
                other_admins=await accounts.other_usable_admins(me),
            )
            ended = {me: await bots.retire(conn, me, now)}
            ended |= await bots.retire_with_owner(conn, account, now)
        orders = bots.deactivation_orders(ended)
        await self.departures.carry_out(Departure.DEACTIVATED, list(ended), orders)
