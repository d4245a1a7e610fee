"""Storage of moderation: actions, notices, appeals, reports, the audit log, feature switches."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from parley.core.moderation import AuditAction, AuditTarget, ModerationAction, ReportStatus
from parley.store.rows import Store, mapping
from parley.store.tables import (
    appeals,
    audit_log,
    features,
    moderation_actions,
    notices,
    reports,
)


class AuditLog(Store):
    """Append-only: there is deliberately no method that changes or removes an entry."""

    async def append(
        self,
        *,
        at: datetime,
        actor_id: str | None,
        action: AuditAction,
        target_type: AuditTarget,
        target_id: str,
        rule: str | None = None,
        reason: str | None = None,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
    ) -> None:
        await self.conn.execute(
            insert(audit_log).values(
                at=at,
                actor_id=actor_id,
                action=action.value,
                target_type=target_type.value,
                target_id=target_id,
                rule=rule,
                reason=reason,
                before=before,
                after=after,
            )
        )

    async def entries(
        self,
        *,
        action: str | None = None,
        actor_id: str | None = None,
        target_type: str | None = None,
        target_id: str | None = None,
        before_id: int | None = None,
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        """Newest first, filtered by whatever is given. Filters are plain text, not the enums
        `append` takes: the log keeps what every earlier version wrote."""
        query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        for column, value in (
            (audit_log.c.action, action),
            (audit_log.c.actor_id, actor_id),
            (audit_log.c.target_type, target_type),
            (audit_log.c.target_id, target_id),
        ):
            if value is not None:
                query = query.where(column == value)
        if before_id is not None:
            query = query.where(audit_log.c.id < before_id)
        return await self._all(query, mapping)

    async def actions(self, since: datetime | None) -> list[tuple[datetime, str, str | None]]:
        """(time, action, rule) of every entry since a moment, oldest first."""
        query = select(audit_log.c.at, audit_log.c.action, audit_log.c.rule).order_by(
            audit_log.c.id
        )
        if since is not None:
            query = query.where(audit_log.c.at >= since)
        return [(r.at, r.action, r.rule) for r in await self.conn.execute(query)]


class ModerationStore(Store):
    async def add_action(self, **values: Any) -> None:
        await self.conn.execute(insert(moderation_actions).values(**values))

    async def add_notice(self, **values: Any) -> None:
        await self.conn.execute(insert(notices).values(**values))

    async def notices_of(self, account_id: str) -> list[dict[str, Any]]:
        query = (
            select(notices, appeals.c.id.label("appeal_id"), appeals.c.decision)
            .outerjoin(appeals, appeals.c.notice_id == notices.c.id)
            .where(notices.c.account_id == account_id)
            .order_by(notices.c.created_at.desc())
        )
        return await self._all(query, mapping)

    async def latest_notice(
        self, account_id: str, action: ModerationAction
    ) -> dict[str, Any] | None:
        query = (
            select(notices)
            .where(notices.c.account_id == account_id, notices.c.action == action.value)
            .order_by(notices.c.created_at.desc())
            .limit(1)
        )
        return await self._first(query, mapping)

    async def notice(self, notice_id: str) -> dict[str, Any] | None:
        return await self._by_id(notices, notice_id, mapping)

    # --- appeals ---------------------------------------------------------------------------

    async def add_appeal(self, **values: Any) -> None:
        await self.conn.execute(insert(appeals).values(**values))

    async def appeal(self, appeal_id: str) -> dict[str, Any] | None:
        return await self._by_id(appeals, appeal_id, mapping)

    async def appeal_for(self, notice_id: str) -> dict[str, Any] | None:
        query = select(appeals).where(appeals.c.notice_id == notice_id)
        return await self._first(query, mapping)

    async def appeals(self, *, open_only: bool, limit: int) -> list[dict[str, Any]]:
        query = select(appeals).order_by(appeals.c.created_at).limit(limit)
        if open_only:
            query = query.where(appeals.c.decision.is_(None))
        return await self._all(query, mapping)

    async def decide_appeal(self, appeal_id: str, **values: Any) -> bool:
        """Record the decision, once; False if it was already decided."""
        result = await self.conn.execute(
            update(appeals)
            .where(appeals.c.id == appeal_id, appeals.c.decision.is_(None))
            .values(**values)
        )
        return bool(result.rowcount)

    # --- reports ---------------------------------------------------------------------------

    async def add_report(self, **values: Any) -> None:
        await self.conn.execute(insert(reports).values(**values))

    async def reports(self, *, status: ReportStatus | None, limit: int) -> list[dict[str, Any]]:
        query = select(reports).order_by(reports.c.created_at).limit(limit)
        if status is not None:
            query = query.where(reports.c.status == status.value)
        return await self._all(query, mapping)

    async def report(self, report_id: str) -> dict[str, Any] | None:
        return await self._by_id(reports, report_id, mapping)

    async def resolve_report(self, report_id: str, **values: Any) -> bool:
        result = await self.conn.execute(
            update(reports)
            .where(reports.c.id == report_id, reports.c.status == ReportStatus.OPEN.value)
            .values(**values)
        )
        return bool(result.rowcount)

    # --- feature switches ------------------------------------------------------------------

    async def features(self) -> dict[str, dict[str, Any]]:
        return {r.name: mapping(r) for r in await self.conn.execute(select(features))}

    async def set_feature(
        self, name: str, *, enabled: bool, message: str, now: datetime, by: str | None
    ) -> None:
        values = dict(enabled=enabled, message=message, updated_at=now, updated_by=by)
        changed = await self.conn.execute(
            update(features).where(features.c.name == name).values(**values)
        )
        if not changed.rowcount:
            await self.conn.execute(insert(features).values(name=name, **values))
