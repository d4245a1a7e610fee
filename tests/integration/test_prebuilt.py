"""Statements built once and run straight on asyncpg (store/prebuilt.py) give what SQLAlchemy
gives, compared on PostgreSQL with the same queries through SQLAlchemy."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from sqlalchemy import select, update

from parley.core.accounts import AccountState
from parley.core.spaces import rules
from parley.core.spaces.events import Event
from parley.core.spaces.model import Limits, Participant
from parley.store import accounts as store
from parley.store.accounts import AccountStore, SessionStore
from parley.store.among import among
from parley.store.connections import Holder
from parley.store.db import Database
from parley.store.presence import PresenceStore
from parley.store.rows import record
from parley.store.spaces import SpaceStore, stored_event
from parley.store.tables import (
    accounts,
    node_connections,
    participants,
    sessions,
    space_events,
    spaces,
)
from tests.support.rows import T0, live_space, stored_accounts


@pytest.mark.postgres
async def test_the_session_lookup_on_asyncpg_reads_what_sqlalchemy_reads(
    postgres_db: Database,
) -> None:
    hashes = [f"{n:064x}" for n in range(4)]
    async with postgres_db.write() as conn:
        for n, token_hash in enumerate(hashes):
            await AccountStore(conn).create(
                id=f"{n:032x}",
                handle=f"raw{n}",
                display_name=f"Raw {n}",
                password_hash="x",
                is_admin=n == 0,
                now=T0,
            )
            await SessionStore(conn).create(
                id=f"s{n:031x}",
                account_id=f"{n:032x}",
                token_hash=token_hash,
                now=T0,
                scope="appeal" if n == 1 else "full",
            )
        await conn.execute(
            update(accounts).where(accounts.c.id == f"{2:032x}").values(state="suspended")
        )
        await conn.execute(
            update(sessions).where(sessions.c.token_hash == hashes[3]).values(revoked_at=T0)
        )
    wanted = [*hashes, "f" * 64]
    async with postgres_db.read() as conn:
        raw = await SessionStore(conn).accounts_for(wanted)
        query = store._SESSIONS_FOUND.where(among(sessions.c.token_hash, wanted))
        through_sqlalchemy = {
            row.token_hash: (store._session(row), store.account_record(row))
            for row in await conn.execute(query)
        }
    assert raw == through_sqlalchemy
    assert sorted(raw) == hashes[:3]  # not the revoked session, nor a token nobody has
    session, account = raw[hashes[2]]
    assert account.state is AccountState.SUSPENDED and raw[hashes[0]][1].is_admin
    assert raw[hashes[1]][0].scope == "appeal"
    assert session.created_at == T0 and session.created_at.tzinfo is UTC
    assert account.created_at.tzinfo is UTC


async def test_a_decision_written_and_read_by_prebuilt_statements_is_what_sqlalchemy_reads(
    database_url: str,
) -> None:
    """A decision's statements (load, save, socket counts) are prebuilt; what they write and
    read, read back through SQLAlchemy's own statements, is the same on both databases."""
    db = Database(database_url)
    try:
        await db.migrate()
        host, *joiners = await stored_accounts(db, 4, "pre", T0)
        space = live_space(host)
        async with db.write() as conn:
            await SpaceStore(conn).create(space)
        events: list[Event] = []
        async with db.write() as conn:
            store = SpaceStore(conn)
            state = await store.load(space.id, joiners, limits=Limits())
            assert state is not None and state.space == space
            for k, account_id in enumerate(joiners):
                events += rules.join(state, account_id, f"pre{k + 1}", T0 + timedelta(seconds=k))
            await store.save(state, events)
            await PresenceStore(conn).connected_many(space.id, joiners[:2], Holder("node-a"))
        async with db.read() as conn:
            rows = await conn.execute(select(participants).order_by(participants.c.joined_at))
            written = {row.account_id: record(Participant, row) for row in rows}
            sockets = select(node_connections.c.account_id, node_connections.c.sockets)
            counts = {row.account_id: row.sockets for row in await conn.execute(sockets)}
            stored = await conn.execute(select(space_events).order_by(space_events.c.seq))
            logged = [stored_event(row) for row in stored]
            seq = (await conn.execute(select(spaces.c.seq))).scalar_one()
        assert written == {a: state.participants[a] for a in joiners}
        assert written[joiners[0]].joined_at.tzinfo is UTC
        assert counts == {joiners[0]: 1, joiners[1]: 1}
        assert logged == events and seq == events[-1].seq
        async with db.write() as conn:
            again = await SpaceStore(conn).load(space.id, joiners, limits=Limits())
        assert again is not None and again.space.seq == seq
        assert {a: again.participants[a] for a in joiners} == written
    finally:
        await db.close()


@pytest.mark.postgres
async def test_a_prebuilt_statement_that_comes_first_runs_in_the_transaction(
    postgres_db: Database,
) -> None:
    """SQLAlchemy's asyncpg adapter sends BEGIN at its own first statement: a prebuilt one
    coming first begins it, so rolling back undoes it."""
    host, joiner = await stored_accounts(postgres_db, 2, "pre", T0)
    space = live_space(host)
    async with postgres_db.write() as conn:
        store = SpaceStore(conn)
        await store.create(space)
        state = await store.load(space.id, [joiner], limits=Limits())
        assert state is not None
        await store.save(state, rules.join(state, joiner, "pre1", T0))

    class Undone(Exception):
        pass

    with pytest.raises(Undone):
        async with postgres_db.write() as conn:
            await PresenceStore(conn).connected_many(space.id, [joiner], Holder("node-a"))
            raise Undone
    async with postgres_db.read() as conn:
        assert (await conn.execute(select(node_connections))).all() == []
