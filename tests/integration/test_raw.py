"""Statements run straight on asyncpg (store/raw.py) give what SQLAlchemy gives: the session
lookup of every join, compared on PostgreSQL with the same query through SQLAlchemy."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from parley.core.accounts import AccountState
from parley.store import accounts as store
from parley.store.accounts import AccountStore, SessionStore
from parley.store.among import among
from parley.store.db import Database
from parley.store.tables import accounts, sessions
from tests.support.servers import fresh_postgres_database

T0 = datetime(2026, 12, 4, 12, 0, 0, 123456, tzinfo=UTC)


@pytest.fixture
async def db() -> AsyncIterator[Database]:
    async with fresh_postgres_database() as url:
        database = Database(url)
        try:
            await database.migrate()
            yield database
        finally:
            await database.close()


@pytest.mark.postgres
async def test_the_session_lookup_on_asyncpg_reads_what_sqlalchemy_reads(db: Database) -> None:
    hashes = [f"{n:064x}" for n in range(4)]
    async with db.write() as conn:
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
    async with db.read() as conn:
        raw = await SessionStore(conn).accounts_for(wanted)
        query = store._SESSIONS_FOUND.where(among(sessions.c.token_hash, wanted))
        through_sqlalchemy = {
            row.token_hash: (store._session(row), store._account(row))
            for row in await conn.execute(query)
        }
    assert raw == through_sqlalchemy
    assert sorted(raw) == hashes[:3]  # not the revoked session, nor a token nobody has
    session, account = raw[hashes[2]]
    assert account.state is AccountState.SUSPENDED and raw[hashes[0]][1].is_admin
    assert raw[hashes[1]][0].scope == "appeal"
    assert session.created_at == T0 and session.created_at.tzinfo is UTC
    assert account.created_at.tzinfo is UTC
