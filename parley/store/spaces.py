"""Spaces, their participants and their event log."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from functools import cache

from sqlalchemy import (
    ColumnElement,
    String,
    bindparam,
    cast,
    delete,
    func,
    insert,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from parley.core.accounts import WITHDRAWN_STATES
from parley.core.spaces.event_wire import event_of, wire_data
from parley.core.spaces.events import Event, EventType
from parley.core.spaces.exposure import (
    MODERATED,
    MODERATION_END_REASONS,
    MODERATION_OVERTURNED,
)
from parley.core.spaces.model import (
    Limits,
    Participant,
    Role,
    Space,
    SpaceState,
    SpaceStatus,
)
from parley.store.among import among, among_named
from parley.store.prebuilt import Prebuilt, RowLike
from parley.store.rows import Columns, Store, columns_of, insert_ignoring_duplicate, record
from parley.store.tables import accounts, participants, reminders, space_events, spaces
from parley.store.types import storable_key

STAGE_ROLES = [Role.HOST.value, Role.COHOST.value, Role.SPEAKER.value]

# A decision's statements, built once (store/prebuilt.py): a join rush runs them in every batch.
_SPACE = select(spaces).where(spaces.c.id == bindparam("space_id"))
_SPACE_READ = Prebuilt(_SPACE)
# NO KEY: the id never changes, so rows referencing the space (events, participants) may still
# take their foreign-key share lock meanwhile.
_SPACE_LOCKED = Prebuilt(_SPACE.with_for_update(key_share=True))
_IN_SPACE = participants.c.space_id == bindparam("space_id")
_NAMED_ONLY = select(participants).where(
    _IN_SPACE, among_named(participants.c.account_id, "account_ids")
)
_NAMED = Prebuilt(_NAMED_ONLY)
# The stage and the named accounts: two indexed lookups in one round trip, rather than one OR,
# which would scan every listener's row. A named stage member comes twice, the same row.
_STAGE_AND_NAMED = Prebuilt(
    union_all(
        select(participants).where(
            _IN_SPACE, among(participants.c.role, STAGE_ROLES), participants.c.present
        ),
        _NAMED_ONLY,
    )
)
_ADD_PARTICIPANTS = Prebuilt(
    insert(participants),
    columns=["space_id", *(f.name for f in dataclasses.fields(Participant))],
)
_ADD_EVENTS = Prebuilt(insert(space_events), columns=["space_id", "seq", "type", "at", "data"])


@cache
def _space_update(changed: frozenset[str]) -> Prebuilt:
    """The update of a space's `changed` columns (a join changes its seq and listener count)."""
    return Prebuilt(
        update(spaces).where(spaces.c.id == bindparam("space_id")), columns=sorted(changed)
    )


def _space(row: RowLike) -> Space:
    return record(Space, row, topics=tuple(row.topics), pinned=tuple(row.pinned))


def _space_values(space: Space) -> Columns:
    return columns_of(space, topics=list(space.topics), pinned=list(space.pinned))


def _participant(row: RowLike) -> Participant:
    return record(Participant, row)


def _participant_values(p: Participant) -> Columns:
    return columns_of(p)


def stored_event(row: RowLike) -> Event:
    return event_of(row.space_id, row.seq, EventType(row.type), row.at, row.data)


def _holds(text: str) -> ColumnElement[bool]:
    """A space whose title or one of its topics holds `text`, whatever its case (LIKE's
    wildcards in it are plain text)."""
    folded = text.lower()
    return or_(
        func.lower(spaces.c.title).contains(folded, autoescape=True),
        func.lower(cast(spaces.c.topics, String)).contains(folded, autoescape=True),
    )


class SpaceStore(Store):
    def __init__(self, conn: AsyncConnection) -> None:
        super().__init__(conn)
        # What each loaded participant looked like, so `save` writes only what changed.
        self._loaded: dict[str, Columns] = {}
        self._space_loaded: Columns = {}

    async def create(self, space: Space) -> None:
        await self.conn.execute(insert(spaces).values(**_space_values(space)))

    async def get(self, space_id: str) -> Space | None:
        return await self._by_id(spaces, space_id, _space)

    async def by_ids(self, space_ids: Collection[str]) -> dict[str, Space]:
        return await self._by_ids(spaces, space_ids, _space)

    async def load(
        self,
        space_id: str,
        involving: Iterable[str] = (),
        *,
        limits: Limits,
        lock: bool = True,
    ) -> SpaceState | None:
        """The space with its stage and the named accounts' records, for one decision.

        `lock` takes the space's row lock (PostgreSQL) so decisions on one space run one at a
        time on every node; on SQLite the write transaction already serializes them.
        """
        if not storable_key(space_id):
            return None
        row = await (_SPACE_LOCKED if lock else _SPACE_READ).first(self.conn, space_id=space_id)
        if row is None:
            return None
        space = _space(row)
        wanted = sorted(set(involving) | {space.host_id})
        rows = await _STAGE_AND_NAMED.rows(self.conn, space_id=space_id, account_ids=wanted)
        state = SpaceState(space, limits=limits)
        for prow in rows:
            p = _participant(prow)
            state.participants[p.account_id] = p
            self._loaded[p.account_id] = _participant_values(p)
        self._space_loaded = _space_values(space)
        return state

    async def save(self, state: SpaceState, events: Sequence[Event]) -> None:
        """Write what the decision changed, and its events, in the caller's transaction."""
        space_id = state.space.id
        values = _space_values(state.space)
        changed = {k: v for k, v in values.items() if self._space_loaded.get(k) != v}
        if changed:
            await _space_update(frozenset(changed)).run(self.conn, space_id=space_id, **changed)
            self._space_loaded = values
            if changed.get("state") == SpaceStatus.ENDED.value:
                # The decision saw only the stage; everyone else leaves with the space too.
                await self.conn.execute(
                    update(participants)
                    .where(participants.c.space_id == space_id, participants.c.present)
                    .values(present=False)
                )
        arrived: list[Columns] = []
        for account_id, p in state.participants.items():
            pvalues = _participant_values(p)
            before = self._loaded.get(account_id)
            if before is None:
                arrived.append({"space_id": space_id, **pvalues})
            elif before != pvalues:
                diff: Columns = {k: v for k, v in pvalues.items() if before.get(k) != v}
                if diff.get("present") is True:
                    # Back in the space (a rejoin after being let go): the presence clock starts
                    # afresh, or the next sweep would let them go again at once. (It matters
                    # only while no connection holds them, and the next one to close sets it.)
                    diff["disconnected_at"] = None
                await self.conn.execute(
                    update(participants)
                    .where(
                        participants.c.space_id == space_id,
                        participants.c.account_id == account_id,
                    )
                    .values(**diff)
                )
            self._loaded[account_id] = pvalues
        await _ADD_PARTICIPANTS.run_many(self.conn, arrived)
        if events:
            await _ADD_EVENTS.run_many(
                self.conn,
                [
                    {
                        "space_id": e.space_id,
                        "seq": e.seq,
                        "type": e.type.value,
                        "at": e.at,
                        "data": wire_data(e.data),
                    }
                    for e in events
                ],
            )

    async def events_after(self, space_id: str, seq: int, limit: int) -> list[Event]:
        query = (
            select(space_events)
            .where(space_events.c.space_id == space_id, space_events.c.seq > seq)
            .order_by(space_events.c.seq)
            .limit(limit)
        )
        return await self._all(query, stored_event)

    async def prune_events(self, space_id: str, keep_after: int) -> None:
        await self.conn.execute(
            delete(space_events).where(
                space_events.c.space_id == space_id, space_events.c.seq <= keep_after
            )
        )

    async def by_state(
        self,
        state: SpaceStatus,
        *,
        limit: int,
        host_ids: Sequence[str] | None = None,
        public: bool = False,
        text: str | None = None,
    ) -> list[Space]:
        """Spaces in `state` (of these hosts); `public`: only those anyone may be shown
        (`core/spaces/exposure.py`: none that moderation ended, none of a suspended or
        deactivated host)."""
        query = select(spaces).where(spaces.c.state == state.value)
        if public:
            withdrawn = select(accounts.c.id).where(
                accounts.c.state.in_([s.value for s in WITHDRAWN_STATES])
            )
            query = query.where(spaces.c.host_id.not_in(withdrawn))
            if state is SpaceStatus.ENDED:
                query = query.where(
                    or_(
                        spaces.c.end_reason.is_(None),
                        spaces.c.end_reason.not_in(MODERATION_END_REASONS),
                    )
                )
        if host_ids is not None:
            query = query.where(among(spaces.c.host_id, list(host_ids)))
        if text is not None:
            query = query.where(_holds(text))
        if state is SpaceStatus.SCHEDULED:
            query = query.order_by(spaces.c.scheduled_start, spaces.c.id)
        elif state is SpaceStatus.LIVE:
            query = query.order_by(spaces.c.listener_count.desc(), spaces.c.started_at.desc())
        else:
            query = query.order_by(spaces.c.ended_at.desc(), spaces.c.id)
        return await self._all(query.limit(limit), _space)

    async def scheduled_before(self, cutoff: datetime, limit: int) -> list[str]:
        """Ids of scheduled spaces due to start before `cutoff`, the longest overdue first."""
        query = (
            select(spaces.c.id)
            .where(
                spaces.c.state == SpaceStatus.SCHEDULED.value,
                spaces.c.scheduled_start < cutoff,
            )
            .order_by(spaces.c.scheduled_start)
            .limit(limit)
        )
        return list((await self.conn.execute(query)).scalars())

    async def seqs(self, space_ids: Sequence[str]) -> dict[str, int]:
        """The last sequence number of each space."""
        if not space_ids:
            return {}
        query = select(spaces.c.id, spaces.c.seq).where(among(spaces.c.id, list(space_ids)))
        return {r.id: r.seq for r in await self.conn.execute(query)}

    async def stages(self, space_ids: Sequence[str]) -> dict[str, list[Participant]]:
        """Stage members (the host in a grace period included) of each space."""
        result: dict[str, list[Participant]] = {sid: [] for sid in space_ids}
        if not space_ids:
            return result
        rows = await self.conn.execute(
            select(participants)
            .where(
                among(participants.c.space_id, list(space_ids)),
                participants.c.role.in_(STAGE_ROLES),
                or_(participants.c.present, participants.c.role == Role.HOST.value),
            )
            .order_by(participants.c.role_since)
        )
        for row in rows:
            result[row.space_id].append(_participant(row))
        return result

    async def participant(self, space_id: str, account_id: str) -> Participant | None:
        if not (storable_key(space_id) and storable_key(account_id)):
            return None
        query = select(participants).where(
            participants.c.space_id == space_id, participants.c.account_id == account_id
        )
        return await self._first(query, _participant)

    async def participants_among(
        self, space_id: str, account_ids: Sequence[str]
    ) -> dict[str, Participant]:
        """The records of those of `account_ids` who ever joined the space, in one query."""
        ids = [a for a in account_ids if storable_key(a)]
        if not ids or not storable_key(space_id):
            return {}
        rows = await _NAMED.rows(self.conn, space_id=space_id, account_ids=ids)
        found = [_participant(row) for row in rows]
        return {p.account_id: p for p in found}

    async def listeners(self, space_id: str, limit: int) -> list[Participant]:
        query = (
            select(participants)
            .where(
                participants.c.space_id == space_id,
                participants.c.role == Role.LISTENER.value,
                participants.c.present,
            )
            .order_by(participants.c.joined_at)
            .limit(limit)
        )
        return await self._all(query, _participant)

    async def overturn_takedown(self, space_id: str) -> bool:
        """A moderator's ending of the space is overturned: it reads as ended (or called off),
        no longer taken down. False if it was not a moderator's."""
        result = await self.conn.execute(
            update(spaces)
            .where(spaces.c.id == space_id, spaces.c.end_reason == MODERATED)
            .values(end_reason=MODERATION_OVERTURNED)
        )
        return bool(result.rowcount)

    async def pinning(self, post_id: str) -> list[str]:
        """Ids of the live and scheduled spaces that pin this post."""
        if not storable_key(post_id) or any(c in post_id for c in '"%_\\'):
            return []  # no post id has these: made by new_id
        # The JSON list's text holds the id in quotes.
        query = select(spaces.c.id).where(
            spaces.c.state.in_([SpaceStatus.LIVE.value, SpaceStatus.SCHEDULED.value]),
            cast(spaces.c.pinned, String).like(f'%"{post_id}"%'),
        )
        return list((await self.conn.execute(query)).scalars())

    async def live_spaces_hosted_by(self, account_id: str) -> list[str]:
        rows = await self.conn.execute(
            select(spaces.c.id).where(
                spaces.c.host_id == account_id, spaces.c.state == SpaceStatus.LIVE.value
            )
        )
        return list(rows.scalars())

    # --- reminders -------------------------------------------------------------------------

    async def add_reminder(self, space_id: str, account_id: str, now: datetime) -> None:
        await insert_ignoring_duplicate(
            self.conn, reminders, dict(space_id=space_id, account_id=account_id, created_at=now)
        )

    async def remove_reminder(self, space_id: str, account_id: str) -> None:
        await self.conn.execute(
            delete(reminders).where(
                reminders.c.space_id == space_id, reminders.c.account_id == account_id
            )
        )

    async def reminded_among(self, account_id: str, space_ids: Sequence[str]) -> set[str]:
        """Which of `space_ids` the account asked to be reminded of, in one query."""
        rows = await self.conn.execute(
            select(reminders.c.space_id).where(
                reminders.c.account_id == account_id, among(reminders.c.space_id, space_ids)
            )
        )
        return set(rows.scalars())

    async def reminder_account_ids(self, space_id: str) -> list[str]:
        rows = await self.conn.execute(
            select(reminders.c.account_id).where(reminders.c.space_id == space_id)
        )
        return list(rows.scalars())
