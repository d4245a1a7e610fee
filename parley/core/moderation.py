"""Moderation rules: who may act, what a suspension is, what the affected person is told.

The same rules apply to everyone: nothing here looks at who the target is (an admin, a verified
account, the space's host) except to refuse acting on oneself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from parley.core.accounts import Account, AccountState
from parley.core.actors import Actor
from parley.core.errors import Conflict, Forbidden, Invalid
from parley.core.instants import readable_time, utc_instant
from parley.core.text import bounded_text

RULE_RE = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
REASON_MAX = 1000
APPEAL_MAX = 2000
COMMENT_MAX = 1000
MESSAGE_MAX = 280
# How much of a removed post its notice quotes, so its author knows which one.
QUOTE_MAX = 80
# Past this, an end date is a typo or a probe (year 9999); an indefinite suspension says it plainly.
SUSPENSION_MAX = timedelta(days=3653)


class ReportTarget(StrEnum):
    ACCOUNT = "account"
    SPACE = "space"
    POST = "post"


class AppealDecision(StrEnum):
    UPHELD = "upheld"  # the action stands
    OVERTURNED = "overturned"  # the action is undone


class Feature(StrEnum):
    SPACES = "spaces"
    SPACES_CREATE = "spaces.create"


class ModerationAction(StrEnum):
    """What a moderator (or the operator, or time) did to an account or a post; a notice names
    one."""

    SUSPEND = "suspend"
    UNSUSPEND = "unsuspend"
    REMOVE_POST = "remove_post"
    RESTORE_POST = "restore_post"  # a moderator overturned the removal on appeal
    REMOVE_RECORDING = "remove_recording"  # its target: the space recorded
    RESTORE_RECORDING = "restore_recording"
    LIMIT = "limit"  # listen and read only, for a time or until lifted
    UNLIMIT = "unlimit"
    END_SPACE = "end_space"  # one live space ended (a scheduled one called off): taken down
    RESTORE_SPACE = "restore_space"

    @property
    def target(self) -> AuditTarget:
        """What kind of thing the action is taken on (its `target_id` names one)."""
        if self in (self.REMOVE_POST, self.RESTORE_POST):
            return AuditTarget.POST
        if self in (self.REMOVE_RECORDING, self.RESTORE_RECORDING):
            return AuditTarget.RECORDING
        if self in (self.END_SPACE, self.RESTORE_SPACE):
            return AuditTarget.SPACE
        return AuditTarget.ACCOUNT

    @property
    def audited_as(self) -> AuditAction:
        """Each action goes into the audit log under its own name."""
        return AuditAction(self.value)


# Each way an account is restricted: the action imposing it, and the one lifting it.
RESTRICTIONS: Final = {
    AccountState.SUSPENDED: (ModerationAction.SUSPEND, ModerationAction.UNSUSPEND),
    AccountState.LIMITED: (ModerationAction.LIMIT, ModerationAction.UNLIMIT),
}
# What each action restricting an account leaves it in, while it lasts.
IMPOSED_BY: Final = {imposing: state for state, (imposing, _) in RESTRICTIONS.items()}


class ReportStatus(StrEnum):
    OPEN = "open"
    ACTIONED = "actioned"  # something was done about it
    DISMISSED = "dismissed"


class AuditAction(StrEnum):
    SUSPEND = "suspend"
    UNSUSPEND = "unsuspend"
    APPEAL = "appeal"
    DECIDE_APPEAL = "decide_appeal"
    FEATURE_ON = "feature_on"
    FEATURE_OFF = "feature_off"
    LINK_RULE_ADD = "link_rule_add"
    LINK_RULE_REMOVE = "link_rule_remove"
    REPORT_ACTIONED = "report_actioned"
    REPORT_DISMISSED = "report_dismissed"
    LOCATION_POLICY = "location_policy"
    # A moderator deleted a space's recording at once: entries older than removal (below).
    RECORDING_DELETE = "recording_delete"
    REMOVE_POST = "remove_post"
    RESTORE_POST = "restore_post"
    REMOVE_RECORDING = "remove_recording"
    RESTORE_RECORDING = "restore_recording"
    LIMIT = "limit"
    UNLIMIT = "unlimit"
    END_SPACE = "end_space"
    RESTORE_SPACE = "restore_space"


class AuditTarget(StrEnum):
    """The kind of thing an audit entry's `target_id` names."""

    ACCOUNT = "account"
    NOTICE = "notice"
    APPEAL = "appeal"
    FEATURE = "feature"
    LINK_RULE = "link_rule"
    REPORT = "report"
    POLICY = "policy"
    RECORDING = "recording"  # target_id: the space's id
    SPACE = "space"
    POST = "post"


# How a report may be resolved, and what the audit log calls it.
RESOLUTIONS: Final = {
    ReportStatus.ACTIONED: AuditAction.REPORT_ACTIONED,
    ReportStatus.DISMISSED: AuditAction.REPORT_DISMISSED,
}


@dataclass(frozen=True)
class Suspension:
    """A restriction as a moderator decided it, a suspension or a limit: the rule it broke, the
    reason the account is told, and its end (None: until someone lifts it)."""

    rule: str
    reason: str
    until: datetime | None


@dataclass(frozen=True)
class HeldLimit:
    """A limit a suspension came over: it holds again when the suspension ends, unless its own
    end came first or an appeal overturned it meanwhile. `action_id`: the action that imposed it
    (None for a limit older than Parley's keeping of it)."""

    action_id: str | None
    until: datetime | None

    def lapsed(self, now: datetime) -> bool:
        return self.until is not None and self.until <= now


def behind_current(notice_action_id: str, restricted_by: str | None) -> bool:
    """Whether the action a notice names is the one behind an account's current restriction of
    its kind; one imposed before Parley kept that (None) is taken to be."""
    return restricted_by is None or restricted_by == notice_action_id


def require_moderator(actor: Actor) -> None:
    """A moderator's account, or the operator (who runs the node and needs no role in it): to
    read what moderators read."""
    if actor.account is not None and not actor.account.is_admin:
        raise Forbidden("moderators_only", "Only moderators can do this")


def require_acting_moderator(actor: Actor) -> None:
    """To act as a moderator (restrict, lift, remove, decide, set a rule, a switch or the
    policy): a moderator whose own account is limited reads the console but acts no more than
    any limited account does, or a moderator limited by another could lift it or turn on them."""
    require_moderator(actor)
    if actor.account is not None and actor.account.state is AccountState.LIMITED:
        raise Forbidden(
            "account_limited",
            "Your account is limited: you can read the moderation queues but not act on them "
            "until another moderator lifts the limit or it ends. Your notices say why.",
        )


def clean_rule(rule: str) -> str:
    rule = rule.strip()
    if not RULE_RE.fullmatch(rule):
        raise Invalid(
            "invalid_rule", "A rule is a short lowercase name such as `spam` or `harassment`"
        )
    return rule


def clean_reason(reason: str) -> str:
    return bounded_text(reason, most=REASON_MAX, code="invalid_reason", what="A reason")


def suspension(rule: str, reason: str, until: datetime | None, now: datetime) -> Suspension:
    """A valid suspension, or the rule it breaks."""
    if until is not None:
        until = utc_instant(until, code="invalid_until", field="until")
        if until <= now:
            raise Invalid("invalid_until", "`until` must be in the future")
        if until - now > SUSPENSION_MAX:
            raise Invalid(
                "invalid_until",
                "A suspension with an end lasts at most 10 years; leave `until` out for one "
                "without an end",
            )
    return Suspension(clean_rule(rule), clean_reason(reason), until)


def may_suspend(actor: Actor, target: Account) -> None:
    require_acting_moderator(actor)
    if actor.account is not None and actor.account.id == target.id:
        # Not an exemption for anyone: a moderator cannot lock the last door behind them.
        raise Conflict("cannot_suspend_self", "Ask another moderator")
    if target.state is AccountState.SUSPENDED:
        raise Conflict("already_suspended", f"@{target.handle} is already suspended")
    # The operator too: a deleted account suspended would come back active when unsuspended.
    if target.state is AccountState.DEACTIVATED:
        raise Conflict("account_deactivated", f"@{target.handle} is deactivated")


def may_limit(actor: Actor, target: Account) -> None:
    require_acting_moderator(actor)
    if actor.account is not None and actor.account.id == target.id:
        raise Conflict("cannot_limit_self", "Ask another moderator")
    refused = {
        AccountState.LIMITED: ("already_limited", "is already limited"),
        AccountState.SUSPENDED: ("already_suspended", "is suspended, which stops more"),
        AccountState.DEACTIVATED: ("account_deactivated", "is deactivated"),
    }.get(target.state)
    if refused is not None:
        raise Conflict(refused[0], f"@{target.handle} {refused[1]}")


def may_unlimit(actor: Actor, target: Account) -> None:
    require_acting_moderator(actor)
    if target.state is not AccountState.LIMITED:
        raise Conflict("not_limited", f"@{target.handle} is not limited")


def may_remove_post(actor: Actor, author: Account) -> None:
    """Any account's post, whoever wrote it; a moderator's own is deleted, not moderated (it
    would be a notice to oneself, and an appeal only another moderator could decide)."""
    require_acting_moderator(actor)
    if actor.account is not None and actor.account.id == author.id:
        raise Conflict("cannot_moderate_own_post", "Delete your own post instead")


def may_unsuspend(actor: Actor, target: Account) -> None:
    require_acting_moderator(actor)
    if target.state is not AccountState.SUSPENDED:
        raise Conflict("not_suspended", f"@{target.handle} is not suspended")


# Who may impose and lift each restriction, by the state it leaves the account in.
MAY_IMPOSE: Final = {AccountState.SUSPENDED: may_suspend, AccountState.LIMITED: may_limit}
MAY_LIFT: Final = {AccountState.SUSPENDED: may_unsuspend, AccountState.LIMITED: may_unlimit}


def clean_appeal(text: str) -> str:
    return bounded_text(text, most=APPEAL_MAX, code="invalid_appeal", what="An appeal")


def clean_comment(comment: str) -> str:
    return bounded_text(
        comment, least=0, most=COMMENT_MAX, code="invalid_comment", what="A comment"
    )


def clean_message(message: str) -> str:
    return bounded_text(
        message, least=0, most=MESSAGE_MAX, code="invalid_message", what="A status message"
    )


def feature(name: str) -> Feature:
    try:
        return Feature(name)
    except ValueError:
        names = ", ".join(f.value for f in Feature)
        raise Invalid("unknown_feature", f"Features are: {names}") from None


def notice_text(
    action: ModerationAction,
    rule: str,
    reason: str,
    until: datetime | None,
    about: str | None = None,
) -> str:
    """What the affected person reads: what happened, which rule, why, and how to appeal.
    `about`: what the action was taken on, a post's text or a recorded space's title (its
    start is quoted)."""
    quoted = ""
    if about is not None:
        start = about if len(about) <= QUOTE_MAX else about[: QUOTE_MAX - 1].rstrip() + "…"
        quoted = f" (“{start}”)"
    what = {
        ModerationAction.SUSPEND: "Your account was suspended",
        ModerationAction.LIMIT: (
            "Your account was limited (you can listen and read, but not post, host, speak or react)"
        ),
        ModerationAction.REMOVE_POST: f"A post of yours{quoted} was removed",
        ModerationAction.REMOVE_RECORDING: f"The recording of your space{quoted} was removed",
        ModerationAction.END_SPACE: f"Your space{quoted} was ended by a moderator",
    }.get(action, "A moderator acted on your account")
    end = f" until {readable_time(until)}" if until else ""
    stop = "" if reason.rstrip().endswith((".", "!", "?")) else "."
    # Read by people in the web client as much as by API clients: words, not routes, nor
    # markup or ISO timestamps. The `until` field gives the end to software.
    return f"{what}{end} under the rule “{rule}”. Reason: {reason}{stop} You can appeal this once."
