"""Reports: anyone reports an account, a space or a post under a rule; moderators work the queue,
and every resolution goes into the audit log."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from parley.core import moderation as rules
from parley.core.errors import Conflict, Forbidden, Invalid, NotFound
from parley.core.moderation_records import ModeratedPost, QueuedReport, Report
from parley.core.notifications import NotificationKind, ReportResolved
from parley.services.accounts import Caller
from parley.services.common import Clock, new_id
from parley.services.moderation import account_handles
from parley.store.accounts import AccountStore
from parley.store.db import Database
from parley.store.moderation import AuditLog, ModerationStore
from parley.store.notifications import NotificationStore
from parley.store.posts import PostStore
from parley.store.spaces import SpaceStore
from parley.store.tokens import BotStore


class ReportService:
    def __init__(self, db: Database, *, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def report(
        self, caller: Caller, target_type: str, target_id: str, rule: str, comment: str
    ) -> Report:
        try:
            kind = rules.ReportTarget(target_type)
        except ValueError:
            raise Invalid("invalid_target_type", "Report an account, a space or a post") from None
        rule, comment = rules.clean_rule(rule), rules.clean_comment(comment)
        now = self.clock()
        async with self.db.write() as conn:
            resolved = await self._report_target(conn, kind, target_id)
            report = Report(
                id=new_id(),
                reporter_id=caller.account.id,
                target_type=kind,
                target_id=resolved,
                rule=rule,
                comment=comment,
                created_at=now,
                status=rules.ReportStatus.OPEN,
            )
            await ModerationStore(conn).add_report(report)
        return report

    async def _report_target(
        self, conn: AsyncConnection, kind: rules.ReportTarget, target_id: str
    ) -> str:
        """The id of what is reported (an account may be named by its handle)."""
        if kind is rules.ReportTarget.ACCOUNT:
            account = await AccountStore(conn).by_handle(target_id) or await AccountStore(
                conn
            ).by_id(target_id)
            if account is None:
                raise NotFound("account_not_found", "No such account")
            return account.id
        if kind is rules.ReportTarget.SPACE:
            if await SpaceStore(conn).get(target_id) is None:
                raise NotFound("space_not_found", "No such space")
            return target_id
        if await PostStore(conn).get(target_id) is None:
            raise NotFound("post_not_found", "No such post")
        return target_id

    async def reports(
        self, caller: Caller, status: rules.ReportStatus | None, limit: int
    ) -> list[QueuedReport]:
        """The queue; a reported post comes with its text and what became of it, and its
        author's handle, so moderators see what was reported without looking it up."""
        rules.require_moderator(caller)
        async with self.db.read() as conn:
            found = await ModerationStore(conn).reports(status=status, limit=limit)
            posts = await PostStore(conn).moderated(
                [r.target_id for r in found if r.target_type == rules.ReportTarget.POST]
            )
            answering = await _answering(conn, found, posts)
            # The handle shown is the reported account's, or a reported post's author's.
            targets = {
                r.id: answering[r.id][0]
                for r in found
                if r.target_type != rules.ReportTarget.SPACE and answering[r.id]
            }
            handles = await account_handles(
                conn, [r.reporter_id for r in found] + list(targets.values())
            )
        return [
            QueuedReport(
                r,
                reporter_handle=handles.get(r.reporter_id),
                target_handle=handles.get(targets.get(r.id, "")),
                post=posts.get(r.target_id) if r.target_type == rules.ReportTarget.POST else None,
                about_you=caller.account.id in answering[r.id],
            )
            for r in found
        ]

    async def resolve_report(
        self, caller: Caller, report_id: str, status: rules.ReportStatus, reason: str
    ) -> Report:
        rules.require_acting_moderator(caller)
        action = rules.RESOLUTIONS.get(status)
        if action is None:
            raise Invalid("invalid_status", "Resolve a report as actioned or dismissed")
        reason = rules.clean_reason(reason)
        now = self.clock()
        async with self.db.write() as conn:
            store = ModerationStore(conn)
            report = await store.report(report_id)
            if report is None:
                raise NotFound("report_not_found", "No such report")
            if caller.account.id in (await _answering(conn, [report]))[report.id]:
                # As with an appeal: nobody judges a report about themselves.
                raise Forbidden("cannot_resolve_own_report", "Another moderator must decide")
            if not await store.resolve_report(
                report_id, status=status, by=caller.account.id, at=now
            ):
                raise Conflict("already_resolved", "This report was already resolved")
            await AuditLog(conn).append(
                at=now,
                actor_id=caller.account.id,
                action=action,
                target_type=rules.AuditTarget.REPORT,
                target_id=report_id,
                rule=report.rule,
                reason=reason,
            )
            # The reporter hears that it was looked at, and the verdict; the moderator's reason
            # stays in the audit log (it may name the reported account's other doings).
            told = ReportResolved(report_id, report.target_type, status, report.rule)
            await NotificationStore(conn).add_many(
                [report.reporter_id], NotificationKind.REPORT_RESOLVED, told, now
            )
        return dataclasses.replace(
            report, status=status, resolved_by=caller.account.id, resolved_at=now
        )


async def _answering(
    conn: AsyncConnection,
    found: Sequence[Report],
    posts: Mapping[str, ModeratedPost] | None = None,
) -> dict[str, tuple[str, ...]]:
    """Who answers for what each report (by id) is about, as for its appeal: the account, a
    post's author or a space's host, first, then a bot's owner. None of them resolves it.
    `posts`: the reported posts, where the caller has read them already."""
    if posts is None:
        posts = await PostStore(conn).moderated(
            [r.target_id for r in found if r.target_type is rules.ReportTarget.POST]
        )
    spaces = await SpaceStore(conn).by_ids(
        [r.target_id for r in found if r.target_type is rules.ReportTarget.SPACE]
    )

    def account_of(report: Report) -> str | None:
        if report.target_type is rules.ReportTarget.POST:
            post = posts.get(report.target_id)
            return post.post.author.id if post else None
        if report.target_type is rules.ReportTarget.SPACE:
            space = spaces.get(report.target_id)
            return space.host_id if space else None
        return report.target_id

    accounts = {r.id: account_of(r) for r in found}
    owners = await BotStore(conn).owners_of([a for a in accounts.values() if a is not None])

    def answering(account_id: str | None) -> tuple[str, ...]:
        if account_id is None:
            return ()
        owner = owners.get(account_id)
        return (account_id,) if owner is None else (account_id, owner.id)

    return {report_id: answering(account_id) for report_id, account_id in accounts.items()}
