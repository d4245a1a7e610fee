"""A space's recent events on this node, and what each socket is to be sent of them.

The stage (host, cohosts, speakers) is sent every event, and so is a small audience (up to
`Settings.exact_audience_sockets` on the node). A large audience is sent every event but the
comings and goings of listeners ("churn") in a rush: a run of those reaches a listener's
socket as one `listener_count` frame, `{type, seq, data: {listener_count}}`, standing for every
event up to its `seq`, so its sequence numbers still run without a gap (a run of one is sent
as the event itself). Listeners are woken for churn only
every `audience_interval` (longer the larger the audience), which keeps what a join costs the
node from growing with the number of people already listening; the count they hold is the exact
one at each wake-up. A listener's own join or departure always reaches their own socket.

What the audience is sent is worked out once per log end, as one list of which each socket
takes the part past its last seq: with thousands of sockets, each attached at a different place
in a rush, the cost is the send, not the slicing.
"""

from __future__ import annotations

import asyncio
import json
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property

from parley.core.spaces.events import Frame
from parley.core.tokens import AccountRef
from parley.services.views import SpaceView

# The log keeps at least this many entries, so that listeners, woken for churn only now and
# then, do not fall off its start meanwhile (see `Feed`'s forced audience wake-up).
MIN_RETAINED = 4096


@dataclass(frozen=True, slots=True)
class Entry:
    seq: int
    message: str
    # The listener who came or went, when the event is churn; None for every other event.
    churn_of: str | None = None
    listener_count: int = 0
    # How many events for everyone (not churn) the log had taken before this one.
    everyone_before: int = 0


@dataclass(frozen=True)
class Batch:
    """What one socket is sent: (seq, text) in order, and all of it as one JSON array."""

    items: list[tuple[int, str]]

    @property
    def last_seq(self) -> int:
        return self.items[-1][0]

    @cached_property
    def joined(self) -> str:
        return "[" + ",".join(text for _, text in self.items) + "]"


def count_frame(entry: Entry) -> str:
    return json.dumps(
        {
            "type": Frame.LISTENER_COUNT.value,
            "seq": entry.seq,
            "data": {"listener_count": entry.listener_count},
        },
        separators=(",", ":"),
    )


def _for_audience(entries: list[Entry], own: str | None) -> list[tuple[int, str]]:
    """Each run of churn as one count frame (a run of one as the event itself: no rush, no
    need), but `own`'s churn as it is."""
    items: list[tuple[int, str]] = []
    run: list[Entry] = []

    def end_run() -> None:
        if len(run) == 1:
            items.append((run[0].seq, run[0].message))
        elif run:
            items.append((run[-1].seq, count_frame(run[-1])))
        run.clear()

    for entry in entries:
        if entry.churn_of is not None and entry.churn_of != own:
            run.append(entry)
            continue
        end_run()
        items.append((entry.seq, entry.message))
    end_run()
    return items


@dataclass
class FeedLog:
    """The recent events of a space, addressed by absolute position."""

    capacity: int
    base: int = 0
    entries: list[Entry] = field(default_factory=list)
    # Set for everyone: stage and audience.
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    # Set for the stage alone (churn that the audience hears of later).
    stage_wake: asyncio.Event = field(default_factory=asyncio.Event)
    _everyone_total: int = 0
    # The seq of each listener's latest join or departure in the log.
    _churn_seq: dict[str, int] = field(default_factory=dict)
    _audience_items: tuple[list[tuple[int, str]], list[int], dict[int, Batch]] = field(
        default_factory=lambda: ([], [], {})
    )
    _audience_end: int = -1

    @property
    def end(self) -> int:
        return self.base + len(self.entries)

    @property
    def retained(self) -> int:
        return max(2 * self.capacity, MIN_RETAINED)

    def append(self, seq: int, message: str, churn_of: str | None, listener_count: int) -> None:
        self.entries.append(Entry(seq, message, churn_of, listener_count, self._everyone_total))
        if churn_of is None:
            self._everyone_total += 1
        else:
            self._churn_seq[churn_of] = seq
        if len(self.entries) > self.retained:
            # Whoever is behind the dropped part has been behind a long time: they resync.
            drop = len(self.entries) - self.retained // 2
            del self.entries[:drop]
            self.base += drop
            first = self.entries[0].seq
            self._churn_seq = {a: q for a, q in self._churn_seq.items() if q >= first}

    def poke(self) -> None:
        """Wake every waiting socket. A fresh Event each time, so a burst of appends within
        one loop iteration wakes each waiter once."""
        self.poke_stage()
        old, self.wake = self.wake, asyncio.Event()
        old.set()

    def poke_stage(self) -> None:
        old, self.stage_wake = self.stage_wake, asyncio.Event()
        old.set()

    def behind(self, position: int, *, stage: bool) -> bool:
        """Too far behind to catch up: what it missed is gone, or more than `capacity` events
        wait for it (not counting churn, for the audience)."""
        if position < self.base:
            return True
        if stage or position == self.end:
            return self.end - position > self.capacity
        waiting = self._everyone_total - self.entries[position - self.base].everyone_before
        return waiting > self.capacity

    def batch(self, position: int, last_seq: int, account_id: str, *, stage: bool) -> Batch:
        """What a socket at `position`, sent everything up to `last_seq`, is to be sent now."""
        offset = position - self.base
        if offset >= len(self.entries):
            return Batch([])
        if stage:
            entries = self.entries[offset:]
            return Batch([(e.seq, e.message) for e in entries if e.seq > last_seq])
        if self._churn_seq.get(account_id, 0) > last_seq:
            # Its own join or departure is waiting: sent as it is, not as a count.
            fresh = [e for e in self.entries[offset:] if e.seq > last_seq]
            return Batch(_for_audience(fresh, account_id))
        # Everyone in the audience is sent a suffix of one coalesced list, worked out once per
        # log end: a rush's sockets, each attached at a place of its own, share it.
        items, seqs, joined = self._audience()
        start = bisect_right(seqs, last_seq)
        batch = joined.get(start)
        if batch is None:
            batch = joined[start] = Batch(items[start:])
        return batch

    def _audience(self) -> tuple[list[tuple[int, str]], list[int], dict[int, Batch]]:
        if self._audience_end != self.end:
            items = _for_audience(self.entries, None)
            self._audience_items = (items, [seq for seq, _ in items], {})
            self._audience_end = self.end
        return self._audience_items


class KeptSnapshot:
    """A space's view as of its feed's last event, and its snapshot frame as last rendered.

    A listener coming or going changes only the count and the seq, so the view is carried
    across those; any other event drops it (the next socket reads the store). What a join
    rush's sockets are sent first is then neither read nor rendered one by one."""

    def __init__(self) -> None:
        self._view: SpaceView | None = None
        self._text: tuple[int, str] | None = None
        # The bots among the view's stage and host, with their owners: the same for as long
        # as the view is carried (only listeners came and went).
        self._owners: Mapping[str, AccountRef] | None = None

    def owners(self) -> Mapping[str, AccountRef] | None:
        return self._owners if self._view is not None else None

    def keep_owners(self, owners: Mapping[str, AccountRef]) -> None:
        if self._view is not None:
            self._owners = owners

    def view(self, last_seq: int) -> SpaceView | None:
        view = self._view
        return view if view is not None and view.space.seq == last_seq else None

    def remember(self, view: SpaceView, last_seq: int) -> None:
        if view.space.seq == last_seq:
            self._view = view
            self._owners = None

    def text(self, seq: int) -> str | None:
        kept = self._text
        return kept[1] if kept is not None and kept[0] == seq else None

    def keep_text(self, seq: int, text: str) -> None:
        self._text = (seq, text)

    def follow(self, seq: int, churn_of: str | None, listener_count: int) -> None:
        view = self._view
        if view is None or churn_of is None or view.space.seq != seq - 1:
            self._view = None
            self._owners = None
            return
        space = replace(view.space, seq=seq, listener_count=listener_count)
        self._view = replace(view, space=space)
