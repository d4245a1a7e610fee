"""This node's event feeds, one per space with clients here (feed.py), and its sockets: attached
to their space's feed (at most so many per account), and closed by account or by session when
a suspension, a sign-out or a removal says so, on every feed at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Collection, Iterable
from dataclasses import KW_ONLY, dataclass, field

from parley.bus.base import Bus
from parley.core.accounts import AccountState
from parley.core.errors import RuleViolation
from parley.core.spaces.events import Frame
from parley.services.feed import Client, Feed
from parley.services.spaces import SpaceService


class TooManySockets(RuleViolation):
    status = 429


@dataclass(eq=False)
class FanoutHub:
    bus: Bus
    spaces: SpaceService
    client_queue_size: int
    _: KW_ONLY
    max_sockets_per_account: int = 20
    workers: int = 1  # the node's worker processes (`parley serve --workers N`)
    exact_audience_sockets: int = 100  # see Settings
    feeds: dict[str, Feed] = field(default_factory=dict, init=False)
    # Sockets per account on this node, kept as they come and go: counting them at each new
    # socket would walk every client of the node.
    per_account: dict[str, int] = field(default_factory=dict, init=False)

    async def attach(self, space_id: str, client: Client) -> Feed:
        """Start delivering the space's events to the client (raises if the space is unknown,
        or if the account holds as many sockets on this node as it may)."""
        held = self.per_account.get(client.account_id, 0)
        if held >= self.max_sockets_per_account:
            raise TooManySockets(
                "too_many_sockets",
                f"At most {self.max_sockets_per_account} event sockets per account",
            )
        self.per_account[client.account_id] = held + 1
        client.counted = True
        feed = self.feeds.get(space_id)
        if feed is None or feed.task.done():
            feed = self.feeds[space_id] = Feed(
                space_id,
                self.bus,
                self.spaces,
                self.client_queue_size,
                workers=self.workers,
                exact_audience=self.exact_audience_sockets,
            )
        feed.add(client)
        if feed.ready.is_set():
            return feed  # a rush's every socket after the first: no task to wait on
        ready = asyncio.ensure_future(feed.ready.wait())
        await asyncio.wait([ready, feed.task], return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
        if feed.task.done() and not feed.ready.is_set():
            self.detach(space_id, client)
            feed.task.result()  # raises what stopped the feed
        return feed

    async def catch_up(self) -> None:
        """Deliver events committed but never heard on the bus (Redis pub/sub drops messages
        while reconnecting; a command-line tool on the in-process bus reaches no server). One
        query finds the feeds that are behind; only those read their missing events."""
        feeds = [f for f in self.feeds.values() if f.ready.is_set()]
        latest = await self.spaces.seqs([f.space_id for f in feeds])
        for feed in feeds:
            if latest.get(feed.space_id, 0) > feed.last_seq:
                await feed.fill_gap(latest[feed.space_id] + 1)

    def close_account(
        self, account_id: str, code: int, reason: str, spaces: Collection[str] | None = None
    ) -> int:
        """Close every socket of the account on this node, in every space (or in `spaces`);
        how many."""
        feeds = [f for sid, f in self.feeds.items() if spaces is None or sid in spaces]
        return _close(feeds, lambda c: c.account_id == account_id, code, reason)

    def tell_state(self, account_id: str, state: AccountState) -> None:
        """Every socket of the account on this node is told its new state, outside the numbered
        log (as partial captions are): its rooms show at once what it may do now."""
        frame = json.dumps({"type": Frame.ACCOUNT.value, "data": {"state": state.value}})
        for feed in self.feeds.values():
            mine = [c for c in feed.clients if c.account_id == account_id]
            for client in mine:
                client.unnumbered.append(frame)
            if mine:
                feed.log.poke()  # once a feed: a poke wakes every socket of it

    def close_sessions(self, session_ids: set[str], code: int, reason: str) -> int:
        """Close every socket on this node opened with one of these sessions; how many."""
        return _close(self.feeds.values(), lambda c: c.session_id in session_ids, code, reason)

    def detach(self, space_id: str, client: Client) -> None:
        if client.counted:
            client.counted = False
            held = self.per_account.pop(client.account_id, 1) - 1
            if held > 0:
                self.per_account[client.account_id] = held
        feed = self.feeds.get(space_id)
        if feed is None:
            return
        feed.clients.discard(client)
        if not feed.clients:
            feed.task.cancel()
            del self.feeds[space_id]

    async def close(self) -> None:
        for feed in list(self.feeds.values()):
            feed.task.cancel()
            with contextlib.suppress(BaseException):
                await feed.task
        self.feeds.clear()


def _close(feeds: Iterable[Feed], which: Callable[[Client], bool], code: int, reason: str) -> int:
    """Close the sockets of these feeds' clients that `which` picks; how many."""
    closed = 0
    for feed in feeds:
        picked = [c for c in feed.clients if which(c)]
        for client in picked:
            client.closing = (code, reason)
        closed += len(picked)
        if picked:
            feed.log.poke()
    return closed
