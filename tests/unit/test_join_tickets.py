"""The tickets a join leaves for the socket that follows it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from parley.core.spaces.join_tickets import JoinTicket, JoinTickets

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_a_socket_claims_its_joins_ticket_once_while_it_is_fresh() -> None:
    book = JoinTickets(timedelta(seconds=10))
    ticket = JoinTicket("s", "ada", 7, T0)
    assert book.issue(ticket) is None
    assert book.claim("s", "bob", T0) is None
    assert book.claim("s", "ada", T0 + timedelta(seconds=9)) == ticket
    assert book.claim("s", "ada", T0) is None  # once
    assert book.expired(T0 + timedelta(days=1)) == []


def test_an_unclaimed_ticket_expires_and_a_newer_join_replaces_the_older() -> None:
    book = JoinTickets(timedelta(seconds=10))
    old, new = JoinTicket("s", "ada", 7, T0), JoinTicket("s", "ada", 9, T0 + timedelta(seconds=5))
    book.issue(old)
    assert book.issue(new) == old  # the older count is to be taken back
    assert book.claim("s", "ada", T0 + timedelta(seconds=15)) is None  # stale: left to expire
    assert book.expired(T0 + timedelta(seconds=14)) == []
    assert book.expired(T0 + timedelta(seconds=15)) == [new]
    assert len(book) == 0
