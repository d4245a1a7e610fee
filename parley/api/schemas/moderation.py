"""Bodies of trust and safety: suspensions, notices, appeals, reports, the audit log, feature
switches and the public status and transparency pages."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Self

from pydantic import BaseModel

from parley.api.schemas.common import (
    AccountOut,
    AutomatedOut,
    Body,
    BotRefOut,
    Text,
    from_record,
)
from parley.api.schemas.location import LocationPolicyOut
from parley.core.accounts import AccountState
from parley.core.moderation_records import (
    Appeal,
    AuditLine,
    FeatureChange,
    FeatureSwitch,
    Limited,
    ModeratedAccount,
    NoticeRead,
    QueuedAppeal,
    QueuedReport,
    Report,
    Suspended,
)


class SuspendIn(Body):
    rule: Text
    reason: Text
    until: datetime | None = None


class UnsuspendIn(Body):
    reason: Text


class LimitIn(SuspendIn):
    """The rule broken, why, and an optional end: the account reads all three in its notice."""


class UnlimitIn(UnsuspendIn):
    """Why the limit is lifted: the account is told."""


class RemovePostIn(Body):
    rule: Text
    reason: Text


class EndSpaceIn(RemovePostIn):
    """The rule a space broke, and why: its host reads both in their notice."""


class AppealIn(Body):
    notice_id: Text
    text: Text


class AppealDecisionIn(Body):
    decision: Literal["upheld", "overturned"]
    reason: Text


class ReportIn(Body):
    target_type: Text
    target_id: Text
    rule: Text
    comment: Text = ""


class ReportResolution(Body):
    status: Literal["actioned", "dismissed"]
    reason: Text


class FeatureIn(Body):
    enabled: bool
    message: Text = ""


class HeldLimitOut(BaseModel):
    """A limit waiting under a suspension: it holds again, to `until` (null: until lifted), when
    the suspension ends."""

    until: datetime | None


class ModeratedAccountOut(AccountOut):
    """An account as moderators find it."""

    state: AccountState  # every state there is, so no new one is ever a 500 here
    is_admin: bool
    held_limit: HeldLimitOut | None
    # When its suspension or limit ends on its own; null: when a moderator lifts it (or none).
    until: datetime | None

    @classmethod
    def of(cls, found: ModeratedAccount) -> ModeratedAccountOut:
        account, held = found.account, found.held_limit
        held_limit = HeldLimitOut(until=held.until) if held is not None else None
        return cls.of_account(account, found.owner, held_limit=held_limit, until=found.until)


class NoticeOut(BaseModel):
    id: str
    action: str
    rule: str
    reason: str
    text: str
    until: datetime | None
    created_at: datetime
    appeal_id: str | None
    appeal_decision: str | None
    # The bot it is about, on a notice its owner reads (null on one's own).
    bot: BotRefOut | None = None

    @classmethod
    def of(cls, read: NoticeRead) -> NoticeOut:
        return from_record(
            cls,
            read.notice,
            appeal_id=read.appeal_id,
            appeal_decision=read.appeal_decision,
            bot=BotRefOut.of(read.bot),
        )


class SuspendedOut(BaseModel):
    account: AccountOut
    notice: NoticeOut

    @classmethod
    def of(cls, done: Suspended | Limited) -> Self:
        return cls(account=AccountOut.of_account(done.account), notice=NoticeOut.of(done.notice))


class LimitedOut(SuspendedOut):
    """The account limited, and the notice it was given."""


class UnsuspendedOut(BaseModel):
    account: AccountOut
    # Limited where the suspension had come over a limit that still runs.
    state: Literal["active", "limited"]


class UnlimitedOut(BaseModel):
    """The account, active again."""

    account: AccountOut
    state: Literal["active"]


class AppealOut(BaseModel):
    id: str
    notice_id: str
    account_id: str
    text: str
    created_at: datetime
    decision: str | None
    decision_reason: str | None
    decided_at: datetime | None

    @classmethod
    def of(cls, appeal: Appeal) -> AppealOut:
        return cls.model_validate(appeal, from_attributes=True)


class QueuedAppealOut(AppealOut):
    handle: str | None
    # On a bot's appeal: its owner, who wrote it.
    automated: AutomatedOut | None = None
    # What the account was told: the action appealed, its rule and reason.
    notice: NoticeOut
    # The handle of the moderator who took that action; null when the operator did.
    action_by: str | None
    # The appeal is the reader's own or their bot's, or of an action they took: another
    # moderator decides it (403 `cannot_decide_own_appeal`, `cannot_review_own_action`).
    involves_you: bool

    @classmethod
    def queued(cls, queued: QueuedAppeal) -> QueuedAppealOut:
        appeal = queued.appeal
        told = NoticeRead(queued.appealed.notice, appeal.id, appeal.decision)
        return from_record(
            cls,
            appeal,
            handle=queued.handle,
            automated=AutomatedOut.of(queued.owner),
            notice=NoticeOut.of(told),
            action_by=queued.actor_handle,
            involves_you=queued.involves_you,
        )


class ReportOut(BaseModel):
    id: str
    reporter_id: str
    target_type: str
    target_id: str
    rule: str
    comment: str
    created_at: datetime
    status: Literal["open", "actioned", "dismissed"]
    resolved_by: str | None
    resolved_at: datetime | None

    @classmethod
    def of(cls, report: Report) -> ReportOut:
        return cls.model_validate(report, from_attributes=True)


class QueuedReportOut(ReportOut):
    reporter_handle: str | None
    # A reported account's handle, or a reported post's author's.
    target_handle: str | None
    # A reported post's text as moderators may read it, whatever became of it; and what did.
    post_text: str | None
    post_state: Literal["shown", "removed", "deleted"] | None
    # On the moderator reading the queue, or on their post, space or bot: another moderator
    # resolves it (403 `cannot_resolve_own_report`).
    about_you: bool

    @classmethod
    def queued(cls, queued: QueuedReport) -> QueuedReportOut:
        post = queued.post
        return from_record(
            cls,
            queued.report,
            reporter_handle=queued.reporter_handle,
            target_handle=queued.target_handle,
            post_text=post.post.text if post else None,
            post_state=post.state.value if post else None,
            about_you=queued.about_you,
        )


class PostRemovedOut(BaseModel):
    post_id: str
    # What its author is told: the notice they may appeal.
    notice: NoticeOut


class SpaceEndedOut(BaseModel):
    space_id: str
    # What its host is told: the notice they may appeal.
    notice: NoticeOut


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    actor_id: str | None
    action: str
    target_type: str
    target_id: str
    rule: str | None
    reason: str | None
    # What the entry kept of the target before and after: a few named values.
    before: dict[str, str | int | bool | None] | None
    after: dict[str, str | int | bool | None] | None
    actor_handle: str | None
    target_handle: str | None

    @classmethod
    def of(cls, line: AuditLine) -> AuditEntryOut:
        e = line.entry
        return from_record(
            cls,
            e,
            before=dict(e.before) if e.before is not None else None,
            after=dict(e.after) if e.after is not None else None,
            actor_handle=line.actor_handle,
            target_handle=line.target_handle,
        )


class FeatureOut(BaseModel):
    name: str
    enabled: bool
    message: str
    updated_at: datetime | None

    @classmethod
    def of(cls, switch: FeatureSwitch) -> FeatureOut:
        return cls.model_validate(switch, from_attributes=True)


class FeatureChangeOut(FeatureOut):
    spaces_ended: int

    @classmethod
    def changed(cls, change: FeatureChange) -> FeatureChangeOut:
        return from_record(cls, change.switch, spaces_ended=change.spaces_ended)


class StatusOut(BaseModel):
    features: dict[str, FeatureOut]
    location_policy: LocationPolicyOut
    # Live spaces get `caption` events of what their speakers say (the operator's setting,
    # `PARLEY_CAPTIONS`): a client offers its captions toggle only then.
    live_captions: bool
    # The API's documentation is served at /docs (`PARLEY_API_DOCS`): clients link to it only then.
    api_docs: bool


class ActionCountOut(BaseModel):
    period: str
    action: str
    rule: str | None
    count: int
    # On `decide_appeal` lines: the decision those appeals got (counted apart); else null.
    outcome: Literal["upheld", "overturned"] | None


class TransparencyOut(BaseModel):
    actions: list[ActionCountOut]
