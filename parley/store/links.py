"""Storage of link rules and of the links shown through the `/l/{id}` redirector."""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, select

from parley.core.links.checks import StoredRule
from parley.core.links.rules import LinkRule
from parley.core.moderation import AuditAction
from parley.store.among import among
from parley.store.prebuilt import RowLike
from parley.store.rows import Store, columns_of, insert_ignoring_duplicate, record
from parley.store.tables import accounts, audit_log, link_rules, links
from parley.store.types import storable_key

# Audit actions that change the rule set; each node's sweep replays them (see `changes_since`).
RULE_ACTIONS = (AuditAction.LINK_RULE_ADD.value, AuditAction.LINK_RULE_REMOVE.value)


class LinkRuleStore(Store):
    async def add(
        self, rule: LinkRule, *, canonical: str, created_at: datetime, created_by: str | None
    ) -> None:
        """Store a rule with the key it is indexed under, and who made it when."""
        values = columns_of(rule)
        await self.conn.execute(
            insert(link_rules).values(
                **values, canonical=canonical, created_at=created_at, created_by=created_by
            )
        )

    async def get(self, rule_id: str) -> StoredRule | None:
        return await self._by_id(link_rules, rule_id, _stored_rule)

    async def some(self, rule_ids: Sequence[str]) -> list[StoredRule]:
        """The rules among these ids that exist."""
        query = select(link_rules).where(among(link_rules.c.id, list(rule_ids)))
        return await self._all(query, _stored_rule)

    async def list(self, *, limit: int, offset: int = 0) -> builtins.list[StoredRule]:
        """Newest first."""
        query = (
            select(link_rules)
            .order_by(link_rules.c.created_at.desc(), link_rules.c.id)
            .limit(limit)
            .offset(offset)
        )
        return await self._all(query, _stored_rule)

    async def every(self, batch: int = 10_000) -> AsyncIterator[LinkRule]:
        """All rules, streamed in batches: a node loads them all when it starts (in a
        `Database.read(streamed=True)`)."""
        result = await self.conn.stream(select(link_rules))
        async for partition in result.partitions(batch):
            for row in partition:
                yield _link_rule(row)

    async def remove(self, rule_id: str) -> bool:
        if not storable_key(rule_id):
            return False
        result = await self.conn.execute(delete(link_rules).where(link_rules.c.id == rule_id))
        return bool(result.rowcount)

    async def last_change(self) -> int:
        """The id of the newest audit entry of all (rules change in the same transaction as
        their entry is written, so this is where a node's replay of changes starts)."""
        newest = (await self.conn.execute(select(func.max(audit_log.c.id)))).scalar()
        return int(newest or 0)

    async def changes_since(self, after_id: int) -> builtins.list[tuple[int, str]]:
        """(audit id, rule id) of every rule added or removed after that audit entry, in order.

        A range scan on the audit log's primary key: a sweep reads only what was written since.
        """
        query = (
            select(audit_log.c.id, audit_log.c.target_id)
            .where(audit_log.c.id > after_id, audit_log.c.action.in_(RULE_ACTIONS))
            .order_by(audit_log.c.id)
        )
        return [(r.id, r.target_id) for r in await self.conn.execute(query)]


def _link_rule(row: RowLike) -> LinkRule:
    return record(LinkRule, row)


def _stored_rule(row: RowLike) -> StoredRule:
    return StoredRule(_link_rule(row), created_at=row.created_at, created_by=row.created_by)


@dataclass(frozen=True, slots=True)
class StoredLink:
    url: str
    created_by: str | None
    minter_since: datetime | None  # when the account that shared it was created


class LinkStore(Store):
    """Links as posted, behind ids; the redirector checks them again per click."""

    async def add(
        self, *, id: str, url: str, created_at: datetime, created_by: str | None = None
    ) -> None:
        await self.add_many([(id, url, created_by)], created_at)

    async def add_many(
        self, links_: Sequence[tuple[str, str, str | None]], created_at: datetime
    ) -> None:
        """Add (id, url, created_by) rows; an id that exists already is left as it is (ids are
        derived from their link, so two nodes minting one link at once agree)."""
        for link_id, url, created_by in links_:
            await insert_ignoring_duplicate(
                self.conn,
                links,
                {"id": link_id, "url": url, "created_at": created_at, "created_by": created_by},
            )

    async def existing(self, link_ids: Sequence[str]) -> set[str]:
        query = select(links.c.id).where(among(links.c.id, list(link_ids)))
        return {str(r.id) for r in await self.conn.execute(query)}

    async def get(self, link_id: str) -> StoredLink | None:
        if not storable_key(link_id):
            return None
        query = (
            select(links.c.url, links.c.created_by, accounts.c.created_at)
            .select_from(links.outerjoin(accounts, accounts.c.id == links.c.created_by))
            .where(links.c.id == link_id)
        )
        row = (await self.conn.execute(query)).first()
        if row is None:
            return None
        return StoredLink(str(row.url), row.created_by, row.created_at)
