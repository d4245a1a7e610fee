"""Trust and safety: suspensions, notices and appeals, reports, the audit log, feature switches,
and the public status and transparency pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from parley.api.deps import AppealCallerDep, CallerDep, NodeDep, PageLimit, limit
from parley.api.schemas.common import AccountOut
from parley.api.schemas.location import LocationPolicyOut
from parley.api.schemas.moderation import (
    ActionCountOut,
    AppealDecisionIn,
    AppealIn,
    AppealOut,
    AuditEntryOut,
    EndSpaceIn,
    FeatureChangeOut,
    FeatureIn,
    FeatureOut,
    LimitedOut,
    LimitIn,
    ModeratedAccountOut,
    NoticeOut,
    PostRemovedOut,
    QueuedAppealOut,
    QueuedReportOut,
    RemovePostIn,
    ReportIn,
    ReportOut,
    ReportResolution,
    SpaceEndedOut,
    StatusOut,
    SuspendedOut,
    SuspendIn,
    TransparencyOut,
    UnlimitedOut,
    UnlimitIn,
    UnsuspendedOut,
    UnsuspendIn,
)
from parley.core.moderation import AuditAction, AuditTarget, ReportStatus
from parley.core.moderation_records import AuditQuery
from parley.core.ratelimit import LimitName

router = APIRouter(tags=["trust and safety"])


@router.post("/admin/accounts/{handle}/suspend")
async def suspend(handle: str, body: SuspendIn, caller: CallerDep, node: NodeDep) -> SuspendedOut:
    """Suspend any account (no kind is exempt): sessions revoked, sockets and media closed on
    every node, out of every space; the account is told why and may appeal."""
    done = await node.moderation.suspend(caller, handle, body.rule, body.reason, body.until)
    return SuspendedOut.of(done)


@router.post("/admin/posts/{post_id}/remove")
async def remove_post(
    post_id: str, body: RemovePostIn, caller: CallerDep, node: NodeDep
) -> PostRemovedOut:
    """Remove one post under a rule, whoever wrote it: shown to nobody any more; its author
    gets a notice quoting it (and a `post_removed` notification) and may appeal."""
    notice = await node.post_moderation.remove(caller, post_id, body.rule, body.reason)
    return PostRemovedOut(post_id=post_id, notice=NoticeOut.of(notice))


@router.post("/admin/spaces/{space_id}/end")
async def end_space(
    space_id: str, body: EndSpaceIn, caller: CallerDep, node: NodeDep
) -> SpaceEndedOut:
    """End one live space at once (call off a scheduled one), whoever hosts it, without touching
    the host's account: everyone in it is told, its page is taken down (410 `space_removed`),
    and its host gets a notice and may appeal. 409 `space_over` for one already over."""
    notice = await node.space_moderation.end(caller, space_id, body.rule, body.reason)
    return SpaceEndedOut(space_id=space_id, notice=NoticeOut.of(notice))


@router.post("/admin/accounts/{handle}/unsuspend")
async def unsuspend(
    handle: str, body: UnsuspendIn, caller: CallerDep, node: NodeDep
) -> UnsuspendedOut:
    account = await node.moderation.unsuspend(caller, handle, body.reason)
    return UnsuspendedOut(account=AccountOut.of_account(account), state=account.state.value)


@router.post("/admin/accounts/{handle}/limit")
async def limit_account(handle: str, body: LimitIn, caller: CallerDep, node: NodeDep) -> LimitedOut:
    """Limit any account (no kind is exempt) to listening and reading: it may not post, host,
    come on stage, react or edit its profile (403 `account_limited`), and comes off every
    stage on every node at once; it is told why and may appeal. Its active bots go with it."""
    done = await node.account_limits.limit(caller, handle, body.rule, body.reason, body.until)
    return LimitedOut.of(done)


@router.post("/admin/accounts/{handle}/unlimit")
async def unlimit_account(
    handle: str, body: UnlimitIn, caller: CallerDep, node: NodeDep
) -> UnlimitedOut:
    account = await node.account_limits.unlimit(caller, handle, body.reason)
    return UnlimitedOut(account=AccountOut.of_account(account), state="active")


@router.get("/admin/accounts")
async def find_accounts(
    caller: CallerDep,
    node: NodeDep,
    q: Annotated[str, Query(max_length=15)] = "",
    limit: PageLimit = 50,
) -> list[ModeratedAccountOut]:
    return [
        ModeratedAccountOut.of(a) for a in await node.moderation.find_accounts(caller, q, limit)
    ]


@router.get("/me/notices")
async def notices(caller: AppealCallerDep, node: NodeDep) -> list[NoticeOut]:
    """What moderators did to this account, under which rule and why; suspended accounts too."""
    return [NoticeOut.of(n) for n in await node.moderation.notices(caller)]


@router.post("/appeals", status_code=201)
async def appeal(body: AppealIn, caller: AppealCallerDep, node: NodeDep) -> AppealOut:
    # Here rather than as a route dependency: the caller is usually a suspended account.
    await node.limits.check(LimitName.APPEALS, caller.account.id)
    return AppealOut.of(await node.moderation.appeal(caller.account, body.notice_id, body.text))


@router.get("/admin/appeals")
async def appeals(
    caller: CallerDep, node: NodeDep, open: bool = True, limit: PageLimit = 50
) -> list[QueuedAppealOut]:
    """Appeals, oldest first, each with the notice it answers and who took that action."""
    found = await node.moderation.appeals(caller, open_only=open, limit=limit)
    return [QueuedAppealOut.queued(a) for a in found]


@router.post("/admin/appeals/{appeal_id}/decide")
async def decide(
    appeal_id: str, body: AppealDecisionIn, caller: CallerDep, node: NodeDep
) -> AppealOut:
    """Uphold or overturn, by a moderator who had no part in it: not the one who appealed, nor
    their bot's owner (403 `cannot_decide_own_appeal`), nor the one who took the action (403
    `cannot_review_own_action`). Overturning lifts what the action imposed or brings back what
    it removed; the account is told either way."""
    decided = await node.moderation.decide_appeal(caller, appeal_id, body.decision, body.reason)
    return AppealOut.of(decided)


@router.post("/reports", status_code=201, dependencies=[limit(LimitName.REPORTS)])
async def report(body: ReportIn, caller: CallerDep, node: NodeDep) -> ReportOut:
    made = await node.reports.report(
        caller, body.target_type, body.target_id, body.rule, body.comment
    )
    return ReportOut.of(made)


@router.get("/admin/reports")
async def reports(
    caller: CallerDep,
    node: NodeDep,
    status: ReportStatus | None = ReportStatus.OPEN,
    limit: PageLimit = 50,
) -> list[QueuedReportOut]:
    return [QueuedReportOut.queued(r) for r in await node.reports.reports(caller, status, limit)]


@router.post("/admin/reports/{report_id}/resolve")
async def resolve(
    report_id: str, body: ReportResolution, caller: CallerDep, node: NodeDep
) -> ReportOut:
    resolved = await node.reports.resolve_report(
        caller, report_id, ReportStatus(body.status), body.reason
    )
    return ReportOut.of(resolved)


@router.get("/admin/audit")
async def audit(
    caller: CallerDep,
    node: NodeDep,
    action: AuditAction | None = None,
    actor_id: Annotated[str | None, Query(max_length=32)] = None,
    target_type: AuditTarget | None = None,
    target_id: Annotated[str | None, Query(max_length=256)] = None,
    before_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    limit: PageLimit = 50,
) -> list[AuditEntryOut]:
    """The audit log, newest first. It is append-only: nothing can change or remove an entry."""
    wanted = AuditQuery(action, actor_id, target_type, target_id, before_id, limit)
    return [AuditEntryOut.of(line) for line in await node.moderation.audit(caller, wanted)]


@router.put("/admin/features/{name}")
async def set_feature(
    name: str, body: FeatureIn, caller: CallerDep, node: NodeDep
) -> FeatureChangeOut:
    change = await node.features.set_feature(caller, name, body.enabled, body.message)
    return FeatureChangeOut.changed(change)


@router.get("/status")
async def status(node: NodeDep) -> StatusOut:
    """Public: which features are on, and the admins' message when one is off; the location
    policy posts' places obey; whether live spaces are captioned and /docs is served."""
    switches = await node.features.status()
    return StatusOut(
        features={name: FeatureOut.of(s) for name, s in switches.items()},
        location_policy=LocationPolicyOut.of(await node.location.policy()),
        live_captions=node.captions.live,
        api_docs=node.settings.api_docs,
    )


@router.get("/transparency")
async def transparency(node: NodeDep) -> TransparencyOut:
    """Public: moderation actions per rule and month (UTC), decided appeals counted by their
    outcome. Counted at most once a minute per node: an action shows within that."""
    counts = await node.transparency.lines()
    return TransparencyOut(
        actions=[ActionCountOut.model_validate(c, from_attributes=True) for c in counts]
    )
