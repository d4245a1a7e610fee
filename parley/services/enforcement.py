"""What a node does to its own connections when an account changes: a suspended account's
sockets close with 4401 and its media hangs up, ended sessions likewise, a host's block closes
the blocked account's sockets on the host's live spaces, and a limit set or lifted shows in the
account's open rooms. Orders come from any node over the bus (`obey`), and the sweep finds what
a lost message missed from the database (`sweep`); each is safe to carry out twice."""

from __future__ import annotations

from dataclasses import dataclass

from parley.bus import messages
from parley.bus.messages import AccountChanged, AccountSuspended, KeptOut, SessionsEnded
from parley.core.sessions import SessionEnd
from parley.services.accounts import AccountService
from parley.services.fanout import FanoutHub
from parley.services.feed import CLOSE_REMOVED, CLOSE_UNAUTHORIZED
from parley.services.media import MediaService
from parley.services.sharing import SharingService
from parley.store.accounts import AccountStore
from parley.store.db import Database


@dataclass(eq=False)
class Enforcement:
    db: Database
    accounts: AccountService
    hub: FanoutHub
    media: MediaService
    sharing: SharingService

    async def obey(self, order: messages.Message | None) -> None:
        """An account-wide order from any node."""
        match order:
            case AccountSuspended(account_id):
                await self.cut_off([account_id])
            case SessionsEnded(_, session_ids, why):
                await self.end_sessions(set(session_ids), why)
            case KeptOut(account_id, space_ids):
                self.hub.close_account(account_id, CLOSE_REMOVED, "blocked_by_host", space_ids)
            case AccountChanged(account_id):
                await self.account_changed([account_id])

    async def sweep(self) -> None:
        """A suspension or an ended session whose bus message was lost, or a session expired
        meanwhile, reaches this node's connections within an interval: sockets and media, the
        cached sessions, and the hosts of spaces shown from memory. First in the sweep, so a
        suspended account is told why (4401) rather than only that it left a space."""
        cache = self.accounts.session_cache
        held = self.connected_accounts() | cache.account_ids() | self.sharing.cache.host_ids()
        await self.cut_off(await self.accounts.suspended_among(held))
        ended = await self.accounts.ended_among(self.connected_sessions() | cache.session_ids())
        for why in SessionEnd:
            await self.end_sessions({s for s, w in ended.items() if w is why}, why)

    def connected_accounts(self) -> set[str]:
        """Accounts with a socket or a media connection on this node."""
        accounts = {c.account_id for feed in self.hub.feeds.values() for c in feed.clients}
        for watched in self.media.rooms.values():
            accounts.update(watched.room.peers)
        return accounts

    def connected_sessions(self) -> set[str]:
        """Sessions that sockets or media connections on this node were opened with."""
        sessions = {c.session_id for feed in self.hub.feeds.values() for c in feed.clients}
        return sessions | self.media.peer_sessions()

    async def account_changed(self, account_ids: list[str]) -> None:
        """What these accounts may do changed (a limit set or lifted): their cached sessions
        go, and their open rooms show what they may do now."""
        self.accounts.session_cache.forget_accounts(set(account_ids))
        told = [a for a in account_ids if a in self.hub.per_account]  # with a socket here
        if not told:
            return
        async with self.db.read() as conn:
            found = await AccountStore(conn).by_ids(told)
        for account in found.values():
            self.hub.tell_state(account.id, account.state)

    async def cut_off(self, account_ids: list[str]) -> None:
        self.accounts.session_cache.forget_accounts(set(account_ids))
        self.sharing.forget_hosts(set(account_ids))
        for account_id in account_ids:
            self.hub.close_account(account_id, CLOSE_UNAUTHORIZED, "account_suspended")
            await self.media.hang_up_account(account_id)

    async def end_sessions(self, session_ids: set[str], why: SessionEnd) -> None:
        if session_ids:
            self.accounts.session_cache.forget_sessions(session_ids)
            self.hub.close_sessions(session_ids, CLOSE_UNAUTHORIZED, why.value)
            await self.media.hang_up_sessions(session_ids)
