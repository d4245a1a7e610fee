"""Delivering one space's events to this node's WebSocket clients, in order, without gaps.

One `Feed` per space with clients on this node holds one bus subscription and appends every
event, as the string its publisher serialized, to a shared in-memory log (feed_log.py). Each
`Client` keeps its own position in that log and its socket task (`pump`) sends whatever lies
past it. Handing an event to N clients is therefore one append and one wake-up, not N copies; a
client that is slow only falls behind in the log, and one that falls too far behind is told to
resync and closed, so it never slows the others. The node's feeds are kept by fanout.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from parley.bus import messages
from parley.bus.base import Bus
from parley.bus.messages import (
    LiveCaption,
    ParticipantGone,
    SpaceOver,
    UnknownEvent,
    encode,
    space_channel,
    stage_effect,
)
from parley.core.accounts import Departure
from parley.core.sessions import SessionEnd
from parley.core.spaces import events
from parley.core.spaces.events import Event, Frame
from parley.core.spaces.model import Role
from parley.services.feed_log import FeedLog, KeptSnapshot
from parley.services.spaces import SpaceService

log = logging.getLogger(__name__)

# WebSocket close codes of our own (4000-4999 are for applications).
CLOSE_RESYNC = 4001
CLOSE_SPACE_OVER = 4002
CLOSE_REMOVED = 4003
CLOSE_UNAUTHORIZED = 4401
CLOSE_TOO_MANY = 4429

FLUSH_MIN_SECONDS = 0.005
FLUSH_MAX_SECONDS = 0.2
# The audience hears how many listen at most this often (feed_log.py), sooner when small.
AUDIENCE_MIN_SECONDS = 0.25
AUDIENCE_MAX_SECONDS = 5.0
# The audience's wake-ups for churn alone cost a send per socket: spaced by this much per socket
# of the node (all its workers'), they cost the node at most 2,000 sends a second however large
# the audience (a send is about 40 µs).
AUDIENCE_SECONDS_PER_SOCKET = 500e-6
# Partial captions held for one socket at most (a speaker's come at most twice a second).
UNNUMBERED_KEPT = 16
STAGE_ROLES = frozenset({Role.HOST, Role.COHOST, Role.SPEAKER})


@dataclass(eq=False)
class Client:
    account_id: str
    # The session the socket authenticated with: ending it closes the socket.
    session_id: str = ""
    # Highest sequence number this client has been sent; anything at or below is a duplicate.
    last_seq: int = 0
    # Index of the next feed log entry to send.
    position: int = 0
    # Set when the client must go: (close code, reason).
    closing: tuple[int, str] | None = None
    # Counted among its account's sockets on this node (from attach to detach).
    counted: bool = False
    # Partial captions waiting for this socket. They are outside the numbered log (never
    # replayed, no seq), so a slow socket loses the oldest rather than falling behind.
    unnumbered: deque[str] = field(default_factory=lambda: deque(maxlen=UNNUMBERED_KEPT))


class Feed:
    """The events of one space, for the clients of this node."""

    def __init__(
        self,
        space_id: str,
        bus: Bus,
        spaces: SpaceService,
        capacity: int,
        *,
        workers: int = 1,
        exact_audience: int,
    ) -> None:
        self.space_id = space_id
        # The node's worker processes: each holds about this share of the space's sockets.
        self.workers = workers
        # Up to this many sockets on the node, the audience is sent every event, as the stage is.
        self.exact_audience = exact_audience
        self.bus = bus
        self.spaces = spaces
        self.clients: set[Client] = set()
        self.log = FeedLog(capacity)
        self._flush_scheduled = False
        self._last_flush = 0.0
        self.last_seq = 0
        # Who is on the stage now (sent every event), and who just stepped down from it
        # (their departure is news to the audience, not churn).
        self.stage_accounts: set[str] = set()
        self._left_stage: set[str] = set()
        # Since the audience was last woken: an event for everyone, how many churn events.
        self._everyone_pending = False
        self._churn_pending = 0
        self._last_audience = 0.0
        self._audience_timer: asyncio.TimerHandle | None = None
        # The seq this node's feed started from, and who was removed since (by seq): what a
        # socket claiming a join's ticket is checked against instead of the store.
        self.started_seq = 0
        self.removed: dict[str, int] = {}
        # The space as of `last_seq`, for the snapshots of a join rush.
        self.snapshot = KeptSnapshot()
        self.ready = asyncio.Event()
        self.task = asyncio.create_task(self._run(), name=f"feed:{space_id}")

    def add(self, client: Client) -> None:
        client.position = self.log.end
        self.clients.add(client)

    async def _run(self) -> None:
        channel = space_channel(self.space_id)
        async with self.bus.subscribe(channel) as sub:
            # Subscribed first, then read where the log stands: nothing can fall in between.
            stage = await self.spaces.stage(self.space_id)
            self.last_seq = self.started_seq = stage.seq
            self.stage_accounts = {p.account_id for p in stage.stage}
            self.ready.set()
            async for text in sub:
                try:
                    await self._receive(text, messages.decode(channel, text))
                except Exception:
                    log.exception("feed %s: could not deliver an event", self.space_id)

    async def _receive(self, message: str, event: messages.Message | None) -> None:
        if isinstance(event, LiveCaption):
            for client in self.clients:
                client.unnumbered.append(message)
            self.log.poke()
            return
        if not isinstance(event, Event | UnknownEvent):
            return
        seq = event.seq
        if seq <= self.last_seq:
            return
        if seq > self.last_seq + 1:
            # Publishers on different nodes can overtake each other on the bus; the store has
            # every committed event, so fill the gap from there.
            await self.fill_gap(seq)
        if seq > self.last_seq:
            self._deliver(seq, message, event)

    async def fill_gap(self, before: int) -> None:
        """Deliver the stored events after the last one delivered and before `before`."""
        missing = await self.spaces.events_after(self.space_id, self.last_seq) or []
        for earlier in missing:
            if self.last_seq < earlier.seq < before:
                self._deliver(earlier.seq, encode(earlier), earlier)

    def _deliver(self, seq: int, message: str, event: Event | UnknownEvent) -> None:
        self.last_seq = seq
        churn_of, count = None, 0
        if isinstance(event, Event):
            churn_of = self._churn_of(event)
            data = event.data
            if churn_of and isinstance(data, events.ParticipantJoined | events.ParticipantLeft):
                count = data.listener_count
        self.log.append(seq, message, churn_of, count)
        self.snapshot.follow(seq, churn_of, count)
        if isinstance(event, Event):
            self._control(event)
        if churn_of is None:
            self._everyone_pending = True
        else:
            self._churn_pending += 1
        if not self._flush_scheduled:
            self._flush_scheduled = True
            loop = asyncio.get_running_loop()
            # Leading edge: an event on a quiet feed goes out at once; under a stream of events
            # the clients are woken at most once per interval.
            wait = self._last_flush + self.flush_interval() - loop.time()
            loop.call_later(max(0.0, wait), self._flush)

    def vouches(self, account_id: str, since: int) -> bool:
        """Whether this feed has seen every event after `since`, none removing the account."""
        return self.started_seq <= since and self.removed.get(account_id, 0) <= since

    def sends_everything(self, client: Client) -> bool:
        """Whether the client is sent every event, churn included: on the stage, or in an
        audience small enough that its sockets cost little whatever they are sent. A count in
        place of who came and went would leave a small room's list of listeners wrong, where
        people notice; the counts pay only at scale."""
        small = len(self.clients) * self.workers <= self.exact_audience
        return small or client.account_id in self.stage_accounts

    def _churn_of(self, event: Event) -> str | None:
        """The listener an event is the coming or going of, if it is only that."""
        match event.data:
            case events.ParticipantJoined(account_id=who, role=role):
                return who if role is Role.LISTENER else None
            case events.ParticipantLeft(account_id=who):
                if who in self._left_stage:
                    self._left_stage.discard(who)
                    return None
                return None if who in self.stage_accounts else who
        return None

    def flush_interval(self) -> float:
        """The least time between two wake-ups of this feed's clients.

        Waking a socket task costs about the same whether it then sends one event or fifty, so
        with many clients the wake-ups, not the events, are what costs. The interval grows with
        the audience, 100 µs a client, so wake-ups stay a bounded share of a core, and is capped
        so that a busy space of 10,000 still hears every event within DESIGN.md's 500 ms."""
        return max(FLUSH_MIN_SECONDS, min(FLUSH_MAX_SECONDS, len(self.clients) * 100e-6))

    def audience_interval(self) -> float:
        """The least time between two wake-ups of the audience for churn alone, longer the more
        sockets, so a join rush costs the node the same per join whatever the audience. Spaced
        by the node's sockets, not this worker's: with two workers each spaced by its own half,
        the node sent twice as many counts a second as with one, on the same core."""
        spaced = len(self.clients) * self.workers * AUDIENCE_SECONDS_PER_SOCKET
        return max(AUDIENCE_MIN_SECONDS, min(AUDIENCE_MAX_SECONDS, spaced))

    def _flush(self) -> None:
        self._flush_scheduled = False
        now = self._last_flush = asyncio.get_running_loop().time()
        due = now - self._last_audience >= self.audience_interval()
        # Churn piling up past a quarter of the log would push sleeping listeners off its start.
        crowded = self._churn_pending >= self.log.retained // 4
        if self._everyone_pending or (self._churn_pending and (due or crowded)):
            self._wake_everyone()
        elif self._churn_pending:
            self.log.poke_stage()
            if self._audience_timer is None:
                wait = self._last_audience + self.audience_interval() - now
                loop = asyncio.get_running_loop()
                self._audience_timer = loop.call_later(max(0.0, wait), self._audience_due)

    def _audience_due(self) -> None:
        self._audience_timer = None
        if self._churn_pending:
            self._wake_everyone()

    def _wake_everyone(self) -> None:
        self._everyone_pending, self._churn_pending = False, 0
        self._last_audience = asyncio.get_running_loop().time()
        if self._audience_timer is not None:
            self._audience_timer.cancel()
            self._audience_timer = None
        self.log.poke()

    def _control(self, event: Event) -> None:
        """Events that end a client's stay: the space is over, or they were removed. The client
        is sent everything up to that event first, so it learns why."""
        data = event.data
        if isinstance(data, events.ParticipantJoined) and data.role in STAGE_ROLES:
            self.stage_accounts.add(data.account_id)
        match stage_effect(event):
            case events.RoleChanged(account_id=account_id, role=role):
                if role in STAGE_ROLES:
                    self.stage_accounts.add(account_id)
                    self._left_stage.discard(account_id)
                elif account_id in self.stage_accounts:
                    self.stage_accounts.discard(account_id)
                    self._left_stage.add(account_id)
            case SpaceOver():
                for client in self.clients:
                    client.closing = client.closing or (CLOSE_SPACE_OVER, "the space is over")
            case ParticipantGone(account_id, removed=True):
                self.stage_accounts.discard(account_id)
                self.removed[account_id] = event.seq
                # Taken out because the account was suspended or deleted: told so (4401, as
                # the sweep and the bus order say it), whichever reaches the socket first.
                why = _removal_close(data)
                for client in self.clients:
                    if client.account_id == account_id and client.closing is None:
                        client.closing = why
            case ParticipantGone(account_id):
                self.stage_accounts.discard(account_id)


def _removal_close(data: events.EventData) -> tuple[int, str]:
    if isinstance(data, events.ParticipantRemoved):
        if data.by == "moderation" and data.reason == Departure.SUSPENDED:
            return CLOSE_UNAUTHORIZED, "account_suspended"
        if data.reason == Departure.DEACTIVATED:
            return CLOSE_UNAUTHORIZED, SessionEnd.DEACTIVATED.value
    return CLOSE_REMOVED, "you were removed from this space"


async def pump(
    feed: Feed, client: Client, send: Callable[[str], Awaitable[None]], *, batch: bool
) -> tuple[int, str]:
    """Send the client the feed's events past its position until it has to close; returns the
    close code and reason. With `batch`, all events waiting at once go in one frame as a JSON
    array (in order), which is what lets one node serve thousands of sockets per space. A socket
    of a large audience gets listeners' comings and goings as counts (feed_log.py)."""
    feed_log = feed.log
    while True:
        everything = feed.sends_everything(client)
        if feed_log.behind(client.position, stage=everything):
            await send(json.dumps({"type": Frame.RESYNC.value, "seq": client.last_seq}))
            return CLOSE_RESYNC, "too far behind: reconnect with since=N"
        # A large audience sleeps through churn; the stage is woken for every event.
        wake = feed_log.stage_wake if everything else feed_log.wake
        pending = feed_log.batch(
            client.position, client.last_seq, client.account_id, stage=everything
        )
        client.position = feed_log.end
        while client.unnumbered:
            await send(client.unnumbered.popleft())
        if pending.items:
            if batch:
                await send(pending.joined)
            else:
                for _, message in pending.items:
                    await send(message)
            client.last_seq = pending.last_seq
            continue  # more may have arrived while sending
        if client.closing is not None:
            return client.closing
        await wake.wait()
