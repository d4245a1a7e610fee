"""The connections (event sockets, media) each node holds, per account and space (issue 12).

The one count of connections there is: a participant holds some when any node counts one
(`holds_any`), whoever opened it first, the socket or the join. Sockets of someone not (yet) a
participant are counted too, so one opened before its owner joined holds them once they have.
A node killed without closing its connections leaves its counts behind: a surviving node,
seeing it no longer advertise itself, takes them back (`release_node`); participants left
holding none are away since the dead node was last heard from, and leave after the presence
timeout unless they came back through another node meanwhile.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, delete, exists, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from parley.store.prebuilt import Prebuilt
from parley.store.rows import insert_ignoring_duplicate
from parley.store.tables import node_connections, nodes, participants

_t = node_connections

# A batch of joins counts its sockets in one upsert, built once per dialect (store/prebuilt.py).
_COUNT_SOCKETS = {
    name: Prebuilt(
        dialect(_t).on_conflict_do_update(
            index_elements=[_t.c.space_id, _t.c.account_id, _t.c.node_id],
            set_={"sockets": _t.c.sockets + 1},
        ),
        columns=["space_id", "account_id", "node_id", "sockets"],
    )
    for name, dialect in (("sqlite", sqlite_insert), ("postgresql", pg_insert))
}


def _key(space_id: str, account_id: str, node_id: str) -> list[ColumnElement[bool]]:
    return [_t.c.space_id == space_id, _t.c.account_id == account_id, _t.c.node_id == node_id]


async def count_socket(conn: AsyncConnection, space_id: str, account_id: str, node_id: str) -> None:
    bump = update(_t).where(*_key(space_id, account_id, node_id)).values(sockets=_t.c.sockets + 1)
    if (await conn.execute(bump)).rowcount:
        return
    row = dict(space_id=space_id, account_id=account_id, node_id=node_id, sockets=1)
    if not await insert_ignoring_duplicate(conn, _t, row):
        await conn.execute(bump)  # another transaction of this node inserted it meanwhile


async def count_sockets(
    conn: AsyncConnection, space_id: str, account_ids: Sequence[str], node_id: str
) -> None:
    """`count_socket` for several accounts in one statement (a batch of joins)."""
    rows = [dict(space_id=space_id, account_id=a, node_id=node_id, sockets=1) for a in account_ids]
    await _COUNT_SOCKETS[conn.dialect.name].run_many(conn, rows)


async def uncount_socket(
    conn: AsyncConnection, space_id: str, account_id: str, node_id: str
) -> None:
    key = _key(space_id, account_id, node_id)
    # The last socket: no row kept for it, so the table holds only sockets open now.
    if not (await conn.execute(delete(_t).where(*key, _t.c.sockets <= 1))).rowcount:
        await conn.execute(update(_t).where(*key).values(sockets=_t.c.sockets - 1))


async def nodes_gone_since(conn: AsyncConnection, cutoff: datetime) -> dict[str, datetime]:
    """Nodes holding sockets here that have not advertised themselves since `cutoff`, each
    with when it last did. From the few rows of `nodes`: cheap enough for every sweep."""
    holds = exists().where(_t.c.node_id == nodes.c.id)
    query = select(nodes.c.id, nodes.c.seen_at).where(nodes.c.seen_at < cutoff, holds)
    return {r.id: r.seen_at for r in await conn.execute(query)}


def holds_any(space_id: ColumnElement[str], account_id: ColumnElement[str]) -> ColumnElement[bool]:
    """Whether any node holds a connection of the account's to the space (a row is kept only
    while its count is above zero)."""
    return exists().where(_t.c.space_id == space_id, _t.c.account_id == account_id)


async def release_node(conn: AsyncConnection, node_id: str, *, since: datetime) -> int:
    """Take back the node's connections; participants left holding none are away since
    `since`. The number of connections taken back. Taking the rows and deleting them is one
    statement: two nodes releasing the same dead node at once cannot both count them."""
    taken = await conn.execute(
        delete(_t)
        .where(_t.c.node_id == node_id)
        .returning(_t.c.space_id, _t.c.account_id, _t.c.sockets)
    )
    released = 0
    held = holds_any(participants.c.space_id, participants.c.account_id)
    for row in taken.all():
        await conn.execute(
            update(participants)
            .where(
                participants.c.space_id == row.space_id,
                participants.c.account_id == row.account_id,
                ~held,
            )
            .values(disconnected_at=since)
        )
        released += row.sockets
    # Its advertisement goes too, unless it came back meanwhile (it advertises itself again).
    await conn.execute(delete(nodes).where(nodes.c.id == node_id, nodes.c.seen_at <= since))
    return released
