"""The connections (event sockets, media) each node holds, per account and space (issue 12).

The one count of connections there is: a participant holds some when any node counts one
(`holds_any`), whoever opened it first, the socket or the join. Sockets of someone not (yet) a
participant are counted too, so one opened before its owner joined holds them once they have.
A node killed without closing its connections leaves its counts behind: a surviving node,
seeing it no longer advertise itself, takes them back (`release_node`); participants left
holding none are away since the dead node was last heard from, and leave after the presence
timeout unless they came back through another node meanwhile.

Each worker process of a node (`parley serve --workers N`) counts in rows of its own: one that
dies and is started again takes back what its previous life counted (`release_worker`), and a
node that was taken for gone while alive (paused longer than two leases) writes each worker's
counts again from what it holds (`recount`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, exists, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from parley.store.prebuilt import Prebuilt
from parley.store.rows import Columns, insert_ignoring_duplicate
from parley.store.tables import node_connections, nodes, participants

_t = node_connections

Key = tuple[str, str]  # (space id, account id)


@dataclass(frozen=True)
class Holder:
    """Who counts a connection: a node, and which of its worker processes (0 with one)."""

    node_id: str
    worker: int = 0


# A batch of joins counts its sockets in one upsert, built once per dialect (store/prebuilt.py).
_COUNT_SOCKETS = {
    name: Prebuilt(
        dialect(_t).on_conflict_do_update(
            index_elements=[_t.c.space_id, _t.c.account_id, _t.c.node_id, _t.c.worker],
            set_={"sockets": _t.c.sockets + 1},
        ),
        columns=["space_id", "account_id", "node_id", "worker", "sockets"],
    )
    for name, dialect in (("sqlite", sqlite_insert), ("postgresql", pg_insert))
}


def _held_by(holder: Holder) -> list[ColumnElement[bool]]:
    return [_t.c.node_id == holder.node_id, _t.c.worker == holder.worker]


def _key(space_id: str, account_id: str, holder: Holder) -> list[ColumnElement[bool]]:
    return [_t.c.space_id == space_id, _t.c.account_id == account_id, *_held_by(holder)]


def _row(space_id: str, account_id: str, holder: Holder, sockets: int) -> Columns:
    return dict(
        space_id=space_id,
        account_id=account_id,
        node_id=holder.node_id,
        worker=holder.worker,
        sockets=sockets,
    )


async def count_socket(
    conn: AsyncConnection, space_id: str, account_id: str, holder: Holder
) -> None:
    bump = update(_t).where(*_key(space_id, account_id, holder)).values(sockets=_t.c.sockets + 1)
    if (await conn.execute(bump)).rowcount:
        return
    if not await insert_ignoring_duplicate(conn, _t, _row(space_id, account_id, holder, 1)):
        await conn.execute(bump)  # another transaction of this worker inserted it meanwhile


async def count_sockets(
    conn: AsyncConnection, space_id: str, account_ids: Sequence[str], holder: Holder
) -> None:
    """`count_socket` for several accounts in one statement (a batch of joins)."""
    rows = [_row(space_id, a, holder, 1) for a in account_ids]
    await _COUNT_SOCKETS[conn.dialect.name].run_many(conn, rows)


async def uncount_socket(
    conn: AsyncConnection, space_id: str, account_id: str, holder: Holder
) -> None:
    key = _key(space_id, account_id, holder)
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
    """Take back the node's connections, all its workers'; participants left holding none are
    away since `since`. The number of connections taken back."""
    # Unless it came back meanwhile: a node back from a pause advertises itself before it
    # counts its connections again (ConnectionCounts.check), so a release decided on its old
    # advertisement takes none of those.
    back = exists().where(nodes.c.id == node_id, nodes.c.seen_at > since)
    released = await _take_back(conn, _t.c.node_id == node_id, ~back, since=since)
    await conn.execute(delete(nodes).where(nodes.c.id == node_id, nodes.c.seen_at <= since))
    return released


async def release_worker(conn: AsyncConnection, holder: Holder, *, since: datetime) -> int:
    """`release_node` for one worker's previous life, as it starts again: what it counted then
    is not open now. Its node's advertisement stays (other workers may be serving)."""
    return await _take_back(conn, *_held_by(holder), since=since)


async def _take_back(conn: AsyncConnection, *where: ColumnElement[bool], since: datetime) -> int:
    # Taking the rows and deleting them is one statement: two nodes releasing the same dead
    # node at once cannot both count them.
    taken = await conn.execute(
        delete(_t).where(*where).returning(_t.c.space_id, _t.c.account_id, _t.c.sockets)
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
    return released


async def totals(conn: AsyncConnection, holder: Holder) -> tuple[int, int]:
    """How many (space, account) rows the holder has, and how many connections in them: what
    a worker compares with what it holds, every few seconds (an index lookup, no row read)."""
    query = select(func.count(), func.coalesce(func.sum(_t.c.sockets), 0)).where(*_held_by(holder))
    rows, sockets = (await conn.execute(query)).one()
    return int(rows), int(sockets)


async def recount(conn: AsyncConnection, holder: Holder, held: Mapping[Key, int]) -> int:
    """Make the holder's rows say what it holds (`held`, each above zero): after another node
    took them back, thinking this one gone. How many connections that added (or, below zero,
    took away). Rows that already add up to `held` are left as they are: a worker in a long
    rush of joins gets here with nothing lost, and rewriting thousands of rows would hold up
    its joins for nothing."""
    before = await totals(conn, holder)
    if before == (len(held), sum(held.values())):
        return 0
    await conn.execute(delete(_t).where(*_held_by(holder)))
    rows = [_row(space, account, holder, n) for (space, account), n in held.items()]
    if rows:
        await conn.execute(insert(_t), rows)
    return sum(held.values()) - before[1]
