"""Storage of moderation: actions, notices, appeals, reports, the audit log, feature switches."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import case, func, insert, select, update

from parley.core.moderation import (
    AppealDecision,
    AuditAction,
    AuditTarget,
    ModerationAction,
    ReportStatus,
)
from parley.core.moderation_records import (
    ActionCount,
    ActionTaken,
    Appeal,
    Appealed,
    AuditEntry,
    AuditQuery,
    Details,
    FeatureSwitch,
    Notice,
    NoticeRead,
    Report,
)
from parley.store.among import among
from parley.store.prebuilt import Prebuilt, RowLike
from parley.store.rows import Store, columns_of, insert_ignoring_duplicate, record, upsert
from parley.store.tables import (
    appeals,
    audit_log,
    features,
    moderation_actions,
    notices,
    reports,
)
from parley.store.types import storable_key, utc_month

# Read in every join batch's transaction (built once: store/prebuilt.py).
_FEATURES = Prebuilt(select(features))


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
        before: Details | None = None,
        after: Details | None = None,
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
                before=dict(before) if before is not None else None,
                after=dict(after) if after is not None else None,
            )
        )

    async def entries(self, wanted: AuditQuery) -> list[AuditEntry]:
        """Newest first, filtered by whatever is given."""
        query = select(audit_log).order_by(audit_log.c.id.desc()).limit(wanted.limit)
        for column, value in (
            (audit_log.c.action, wanted.action),
            (audit_log.c.actor_id, wanted.actor_id),
            (audit_log.c.target_type, wanted.target_type),
            (audit_log.c.target_id, wanted.target_id),
        ):
            if value is not None:
                query = query.where(column == value)
        if wanted.before_id is not None:
            query = query.where(audit_log.c.id < wanted.before_id)
        return await self._all(query, lambda row: record(AuditEntry, row))

    async def newest_id(self) -> int:
        return int((await self.conn.execute(select(func.max(audit_log.c.id)))).scalar() or 0)

    async def targets_after(
        self, after_id: int, actions: Collection[AuditAction]
    ) -> tuple[int, list[str]]:
        """The newest entry's id, and what entries after `after_id` of these actions name."""
        query = select(audit_log.c.id, audit_log.c.target_id).where(
            audit_log.c.id > after_id, audit_log.c.action.in_([a.value for a in actions])
        )
        rows = (await self.conn.execute(query)).all()
        return max([after_id, *(r.id for r in rows)]), [r.target_id for r in rows]

    async def counts(self) -> list[ActionCount]:
        """The transparency report: entries per month (UTC), action, rule and, for a decided
        appeal, its decision; counted by the database (the log grows with the instance's
        life, and this is public), by month then action then rule."""
        decided = audit_log.c.action == AuditAction.DECIDE_APPEAL.value
        # Grouped on the columns of a subquery: the expressions themselves carry bound values,
        # which PostgreSQL would not take for the same in the select and the GROUP BY.
        entries = select(
            utc_month(audit_log.c.at).label("period"),
            audit_log.c.action,
            audit_log.c.rule,
            case((decided, audit_log.c.after["decision"].as_string())).label("outcome"),
        ).subquery()
        kept = (entries.c.period, entries.c.action, entries.c.rule, entries.c.outcome)
        query = select(*kept, func.count().label("entries")).group_by(*kept)
        found = [
            ActionCount(
                row.period,
                AuditAction(row.action),
                row.rule,
                row.entries,
                None if row.outcome is None else AppealDecision(row.outcome),
            )
            for row in await self.conn.execute(query)
        ]
        return sorted(found, key=lambda c: (c.period, c.action, c.rule or "", c.outcome or ""))


class ModerationStore(Store):
    async def add_action(self, action: ActionTaken) -> None:
        await self.conn.execute(insert(moderation_actions).values(**columns_of(action)))

    async def take_action(self, taken: ActionTaken, *, before: Details, after: Details) -> None:
        """An action on an account or a post, counted for transparency and logged for audit
        together, in the caller's transaction: one is never written without the other."""
        await self.add_action(taken)
        await AuditLog(self.conn).append(
            at=taken.created_at,
            actor_id=taken.actor_id,
            action=taken.action.audited_as,
            target_type=taken.target_type,
            target_id=taken.target_id,
            rule=taken.rule,
            reason=taken.reason,
            before=before,
            after=after,
        )

    async def target_of(self, action_id: str) -> str | None:
        """What an action was taken on (an account, a post, a space...)."""
        if not storable_key(action_id):
            return None
        query = select(moderation_actions.c.target_id).where(moderation_actions.c.id == action_id)
        found = (await self.conn.execute(query)).scalar_one_or_none()
        return None if found is None else str(found)

    async def add_notice(self, notice: Notice) -> None:
        await self.conn.execute(insert(notices).values(**columns_of(notice)))

    async def notices_of(self, account_ids: list[str]) -> list[NoticeRead]:
        query = (
            select(notices, appeals.c.id.label("appeal_id"), appeals.c.decision)
            .outerjoin(appeals, appeals.c.notice_id == notices.c.id)
            .where(among(notices.c.account_id, account_ids))
            .order_by(notices.c.created_at.desc())
        )
        return await self._all(query, _notice_read)

    async def latest_notice(self, account_id: str, action: ModerationAction) -> Notice | None:
        query = (
            select(notices)
            .where(notices.c.account_id == account_id, notices.c.action == action.value)
            .order_by(notices.c.created_at.desc())
            .limit(1)
        )
        return await self._first(query, _notice)

    async def notice(self, notice_id: str) -> Notice | None:
        return await self._by_id(notices, notice_id, _notice)

    # --- appeals ---------------------------------------------------------------------------

    async def add_appeal(self, appeal: Appeal) -> bool:
        """False when its notice has an appeal already (one sent at the same moment too)."""
        return await insert_ignoring_duplicate(self.conn, appeals, columns_of(appeal))

    async def appeal(self, appeal_id: str) -> Appeal | None:
        return await self._by_id(appeals, appeal_id, _appeal)

    async def appeals(self, *, open_only: bool, limit: int) -> list[Appeal]:
        query = select(appeals).order_by(appeals.c.created_at).limit(limit)
        if open_only:
            query = query.where(appeals.c.decision.is_(None))
        return await self._all(query, _appeal)

    async def appealed(self, notice_ids: Collection[str]) -> dict[str, Appealed]:
        """By notice id: each notice, with who took the action it tells of."""
        query = (
            select(notices, moderation_actions.c.actor_id)
            .outerjoin(moderation_actions, moderation_actions.c.id == notices.c.action_id)
            .where(among(notices.c.id, notice_ids))
        )
        found = await self._all(query, lambda row: Appealed(_notice(row), row.actor_id))
        return {appealed.notice.id: appealed for appealed in found}

    async def decide_appeal(
        self,
        appeal_id: str,
        *,
        decision: AppealDecision,
        reason: str,
        by: str | None,
        at: datetime,
    ) -> bool:
        """Record the decision, once; False if it was already decided."""
        result = await self.conn.execute(
            update(appeals)
            .where(appeals.c.id == appeal_id, appeals.c.decision.is_(None))
            .values(decision=decision.value, decision_reason=reason, decided_by=by, decided_at=at)
        )
        return bool(result.rowcount)

    # --- reports ---------------------------------------------------------------------------

    async def add_report(self, report: Report) -> None:
        await self.conn.execute(insert(reports).values(**columns_of(report)))

    async def reports(self, *, status: ReportStatus | None, limit: int) -> list[Report]:
        query = select(reports).order_by(reports.c.created_at).limit(limit)
        if status is not None:
            query = query.where(reports.c.status == status.value)
        return await self._all(query, _report)

    async def report(self, report_id: str) -> Report | None:
        return await self._by_id(reports, report_id, _report)

    async def resolve_report(
        self, report_id: str, *, status: ReportStatus, by: str, at: datetime
    ) -> bool:
        """Resolve an open report, once; False if it was already resolved."""
        result = await self.conn.execute(
            update(reports)
            .where(reports.c.id == report_id, reports.c.status == ReportStatus.OPEN.value)
            .values(status=status.value, resolved_by=by, resolved_at=at)
        )
        return bool(result.rowcount)

    # --- feature switches ------------------------------------------------------------------

    async def features(self) -> dict[str, FeatureSwitch]:
        """The switches ever set, by feature name."""
        rows = await _FEATURES.rows(self.conn)
        return {r.name: record(FeatureSwitch, r) for r in rows}

    async def set_feature(
        self, name: str, *, enabled: bool, message: str, now: datetime, by: str | None
    ) -> None:
        values = dict(enabled=enabled, message=message, updated_at=now, updated_by=by)
        await upsert(self.conn, features, {"name": name}, values)


def _notice(row: RowLike) -> Notice:
    return record(Notice, row)


def _notice_read(row: RowLike) -> NoticeRead:
    return NoticeRead(
        _notice(row),
        appeal_id=row.appeal_id,
        appeal_decision=None if row.decision is None else AppealDecision(row.decision),
    )


def _appeal(row: RowLike) -> Appeal:
    return record(Appeal, row)


def _report(row: RowLike) -> Report:
    return record(Report, row)
