"""Where accounts are that may no longer be there: the spaces a suspended, deactivated or
limited account must leave or come off the stage of, read by the departures and the limits both
at once and in every node's sweep (which finishes what a node stopped doing half-way)."""

from __future__ import annotations

from sqlalchemy import or_, select

from parley.core.accounts import WITHDRAWN_STATES, AccountState, Departure
from parley.core.spaces.model import Role, SpaceStatus
from parley.store.rows import Store
from parley.store.tables import accounts, participants, spaces


class WithdrawalStore(Store):
    async def spaces_to_leave(self, account_id: str) -> list[str]:
        """Ids of spaces a suspended or deactivated account must be taken out of (a limited one
        off the stage of): live ones it is in (present or not, but not yet removed) or hosts,
        and scheduled ones it hosts."""
        in_live = (
            select(participants.c.space_id)
            .join(spaces, spaces.c.id == participants.c.space_id)
            .where(
                participants.c.account_id == account_id,
                spaces.c.state == SpaceStatus.LIVE.value,
                participants.c.removed.is_(False),
                or_(participants.c.present, spaces.c.host_id == account_id),
            )
        )
        hosted = select(spaces.c.id).where(
            spaces.c.host_id == account_id,
            spaces.c.state.in_([SpaceStatus.LIVE.value, SpaceStatus.SCHEDULED.value]),
        )
        rows = await self.conn.execute(in_live.union(hosted))
        return sorted(set(rows.scalars()))

    async def withdrawn_still_inside(self) -> list[tuple[str, str, Departure]]:
        """(space, account, why) where a suspended or deactivated account is still present in a
        live space, or hosts a scheduled one: what a node's sweep takes out, should the node
        that suspended or deactivated it have stopped half-way."""
        withdrawn = [s.value for s in WITHDRAWN_STATES]
        inside = (
            select(participants.c.space_id, participants.c.account_id, accounts.c.state)
            .join(spaces, spaces.c.id == participants.c.space_id)
            .join(accounts, accounts.c.id == participants.c.account_id)
            .where(
                accounts.c.state.in_(withdrawn),
                spaces.c.state == SpaceStatus.LIVE.value,
                or_(participants.c.present, spaces.c.host_id == participants.c.account_id),
                participants.c.removed.is_(False),
            )
        )
        hosting = (
            select(spaces.c.id, spaces.c.host_id, accounts.c.state)
            .join(accounts, accounts.c.id == spaces.c.host_id)
            .where(
                accounts.c.state.in_(withdrawn),
                spaces.c.state == SpaceStatus.SCHEDULED.value,
            )
        )
        rows = await self.conn.execute(inside.union(hosting))
        return [(space_id, account_id, Departure(state)) for space_id, account_id, state in rows]

    async def limited_on_stage(self) -> list[tuple[str, str]]:
        """(space, account) where a limited account is still on a live space's stage, or has its
        hand up or an invitation: what a node's sweep takes off, as a limit does at once."""
        query = (
            select(participants.c.space_id, participants.c.account_id)
            .join(spaces, spaces.c.id == participants.c.space_id)
            .join(accounts, accounts.c.id == participants.c.account_id)
            .where(
                accounts.c.state == AccountState.LIMITED.value,
                spaces.c.state == SpaceStatus.LIVE.value,
                participants.c.removed.is_(False),
                or_(
                    participants.c.role != Role.LISTENER.value,
                    participants.c.hand_raised,
                    participants.c.invited,
                ),
            )
        )
        return [(space_id, account_id) for space_id, account_id in await self.conn.execute(query)]
