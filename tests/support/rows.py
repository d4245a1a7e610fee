"""Rows for tests that work below the API: accounts written through the stores, a live space."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from parley.core.spaces.model import Space, SpaceStatus
from parley.store.accounts import AccountStore
from parley.store.db import Database
from parley.store.tables import node_connections

T0 = datetime(2026, 12, 4, 12, 0, 0, 123456, tzinfo=UTC)


async def stored_accounts(db: Database, n: int, handle_prefix: str, now: datetime) -> list[str]:
    """The ids of `n` new accounts (1 to n in hex), handled `{handle_prefix}0` onwards."""
    ids = [f"{k:032x}" for k in range(1, n + 1)]
    async with db.write() as conn:
        store = AccountStore(conn)
        for k, account_id in enumerate(ids):
            await store.create(
                id=account_id,
                handle=f"{handle_prefix}{k}",
                display_name="x",
                password_hash="x",
                is_admin=False,
                now=now,
            )
    return ids


async def connections(db: Database, space_id: str, account_id: str) -> int:
    """A participant's open connections over every node (sockets and media), as presence
    counts them."""
    async with db.read() as conn:
        query = select(func.coalesce(func.sum(node_connections.c.sockets), 0)).where(
            node_connections.c.space_id == space_id, node_connections.c.account_id == account_id
        )
        return int((await conn.execute(query)).scalar_one())


def live_space(host_id: str) -> Space:
    return Space(
        id="s" * 32,
        host_id=host_id,
        title="Prebuilt",
        state=SpaceStatus.LIVE,
        created_at=T0,
        topics=("rust", "audio"),
        started_at=T0 + timedelta(minutes=1),
    )
