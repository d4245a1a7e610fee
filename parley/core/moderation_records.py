"""What moderation stores and reports: actions, notices, appeals, reports, audit entries, feature
switches, as records. The store returns these, services compose them, the API renders them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from parley.core.accounts import Account, Post
from parley.core.moderation import (
    AppealDecision,
    AuditAction,
    AuditTarget,
    HeldLimit,
    ModerationAction,
    ReportStatus,
    ReportTarget,
    notice_text,
)
from parley.core.tokens import AccountRef

# What an audit entry keeps of the thing before and after the action (its state, a decision, a
# policy's values), stored as JSON: only JSON's scalars, so they read back as written.
Details = Mapping[str, str | int | bool | None]


@dataclass(frozen=True)
class ActionTaken:
    """One moderation action, as the transparency report and notices count it."""

    id: str
    action: ModerationAction
    target_type: AuditTarget
    target_id: str
    actor_id: str | None
    rule: str
    reason: str
    until: datetime | None
    created_at: datetime

    @classmethod
    def of(
        cls,
        id: str,
        action: ModerationAction,
        target_id: str,
        *,
        actor_id: str | None,
        rule: str,
        reason: str,
        at: datetime,
        until: datetime | None = None,
    ) -> ActionTaken:
        """`target_id` names what the action is taken on: an account, or a post."""
        return cls(id, action, action.target, target_id, actor_id, rule, reason, until, at)


@dataclass(frozen=True)
class Notice:
    """What an account is told of an action against it."""

    id: str
    account_id: str
    action_id: str
    action: ModerationAction
    rule: str
    reason: str
    text: str
    until: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, id: str, taken: ActionTaken) -> Notice:
        """The notice of an action on an account, to its owner: what happened and how to
        appeal."""
        return cls.to(taken.target_id, id, taken)

    @classmethod
    def to(cls, account_id: str, id: str, taken: ActionTaken, about: str | None = None) -> Notice:
        return cls(
            id=id,
            account_id=account_id,
            action_id=taken.id,
            action=taken.action,
            rule=taken.rule,
            reason=taken.reason,
            text=notice_text(taken.action, taken.rule, taken.reason, taken.until, about),
            until=taken.until,
            created_at=taken.created_at,
        )


@dataclass(frozen=True)
class NoticeRead:
    """A notice as its account reads it: with its appeal, once there is one. `bot`: the bot it
    is about, when its owner reads it (a bot has no one else to read or appeal its notices)."""

    notice: Notice
    appeal_id: str | None = None
    appeal_decision: AppealDecision | None = None
    bot: AccountRef | None = None


@dataclass(frozen=True)
class Appeal:
    id: str
    notice_id: str
    account_id: str
    text: str
    created_at: datetime
    decision: AppealDecision | None = None
    decision_reason: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None


@dataclass(frozen=True)
class Appealed:
    """What an appeal answers: the notice, and who took the action behind it (None: the
    operator, from the command line)."""

    notice: Notice
    actor_id: str | None


@dataclass(frozen=True)
class QueuedAppeal:
    """An appeal as moderators see it: with the handle of the account it is about, a bot's
    owner (who wrote it: a bot cannot appeal), what it answers and the handle of the moderator
    who took that action."""

    appeal: Appeal
    handle: str | None
    appealed: Appealed
    owner: AccountRef | None = None
    actor_handle: str | None = None
    # Its account, its bot, or its action is the reader's: another moderator decides it.
    involves_you: bool = False


@dataclass(frozen=True)
class Report:
    id: str
    reporter_id: str
    target_type: ReportTarget
    target_id: str
    rule: str
    comment: str
    created_at: datetime
    status: ReportStatus
    resolved_by: str | None = None
    resolved_at: datetime | None = None


class PostState(StrEnum):
    SHOWN = "shown"
    REMOVED = "removed"  # by a moderator, until an appeal undoes it
    DELETED = "deleted"  # by its author (or with the author's account)


@dataclass(frozen=True)
class ModeratedAccount:
    """An account as moderators find it: with the limit waiting under its suspension, if one
    does (it holds again when the suspension ends), a bot's owner, who answers for it, and when
    its suspension or limit ends on its own (None: when lifted, or not restricted)."""

    account: Account
    held_limit: HeldLimit | None = None
    owner: AccountRef | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class ModeratedPost:
    """A post as moderators see it: whatever became of it, still readable to them."""

    post: Post
    state: PostState


@dataclass(frozen=True)
class QueuedReport:
    """A report as moderators see it: with the handles of the reporter and of a reported
    account (or a reported post's author), and a reported post as it is now."""

    report: Report
    reporter_handle: str | None
    target_handle: str | None
    post: ModeratedPost | None = None
    # It is on the moderator reading the queue, or on their post, space or bot: another
    # moderator resolves it.
    about_you: bool = False


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor_id: str | None
    action: AuditAction
    target_type: AuditTarget
    target_id: str
    rule: str | None
    reason: str | None
    before: Details | None
    after: Details | None


@dataclass(frozen=True)
class AuditQuery:
    """Which audit entries to read, newest first: those matching every filter given."""

    action: AuditAction | None = None
    actor_id: str | None = None
    target_type: AuditTarget | None = None
    target_id: str | None = None
    before_id: int | None = None
    limit: int = 50


@dataclass(frozen=True)
class AuditLine:
    """An audit entry as moderators read it: with handles rather than only ids."""

    entry: AuditEntry
    actor_handle: str | None
    target_handle: str | None


@dataclass(frozen=True)
class FeatureSwitch:
    """A feature's switch; a feature never switched has no row and is on."""

    name: str
    enabled: bool
    message: str
    updated_at: datetime | None
    updated_by: str | None = None


@dataclass(frozen=True)
class FeatureChange:
    switch: FeatureSwitch
    spaces_ended: int


@dataclass(frozen=True)
class ActionCount:
    """A line of the transparency report: how many actions of a kind, under a rule, in a month;
    decided appeals counted apart by their `outcome`, how many stood and how many fell."""

    period: str
    action: AuditAction
    rule: str | None
    count: int
    outcome: AppealDecision | None = None


@dataclass(frozen=True)
class Suspended:
    account: Account
    notice: NoticeRead


@dataclass(frozen=True)
class Limited:
    account: Account
    notice: NoticeRead
