"""Joins whose event socket is expected next, on this node.

A join counts the socket that follows it in its own transaction (presence's `connections`), so
the socket, when it comes, neither writes presence nor re-reads who it is: it claims the ticket
the join left. A ticket nobody claims within `ttl` (the socket went to another node, or never
came) is handed back, and the count the join added is taken away again: from then the
participant is away unless another connection holds them. Pure: times are given.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class JoinTicket:
    space_id: str
    account_id: str
    # The sequence number of the join's event: the socket checks nothing removed them since.
    seq: int
    issued_at: datetime


class JoinTickets:
    def __init__(self, ttl: timedelta) -> None:
        self.ttl = ttl
        self._held: dict[tuple[str, str], JoinTicket] = {}

    def __len__(self) -> int:
        return len(self._held)

    def issue(self, ticket: JoinTicket) -> JoinTicket | None:
        """Hold a new ticket; the one it replaces, if any (its count is to be taken away)."""
        key = (ticket.space_id, ticket.account_id)
        replaced = self._held.get(key)
        self._held[key] = ticket
        return replaced

    def claim(self, space_id: str, account_id: str, now: datetime) -> JoinTicket | None:
        """The ticket for this socket, if one is held and fresh (an old one stays to expire)."""
        ticket = self._held.get((space_id, account_id))
        if ticket is None or now - ticket.issued_at >= self.ttl:
            return None
        del self._held[(space_id, account_id)]
        return ticket

    def expired(self, now: datetime) -> list[JoinTicket]:
        """Tickets unclaimed for `ttl`, removed from the book."""
        gone = [t for t in self._held.values() if now - t.issued_at >= self.ttl]
        for ticket in gone:
            del self._held[(ticket.space_id, ticket.account_id)]
        return gone
