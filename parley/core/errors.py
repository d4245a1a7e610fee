"""Rule violations decided in `core`; the API turns each into a problem document with its code."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from parley.core.moderation_records import Notice


class RuleViolation(Exception):
    """A request the rules refuse. `code` is stable: clients and tests match on it. A refusal
    that tells the client more (when to come back, where to listen instead) is a subclass with
    typed fields, which the API renders as further members of the problem document."""

    status = 403

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Forbidden(RuleViolation):
    """The actor's role does not allow the action."""

    status = 403


class SuspendedSignIn(Forbidden):
    """The right password for a suspended account: refused with the notice of its suspension
    and a token good for nothing but reading notices and appealing."""

    def __init__(self, notice: Notice | None, appeal_token: str) -> None:
        super().__init__("account_suspended", "This account is suspended")
        self.notice = notice
        self.appeal_token = appeal_token


class Conflict(RuleViolation):
    """The action is allowed in general but not in the current state (stage full, not live...)."""

    status = 409


class Invalid(RuleViolation):
    """The input itself is wrong (too long, bad format)."""

    status = 422


class NotFound(RuleViolation):
    status = 404


class Unauthenticated(RuleViolation):
    status = 401


class Unavailable(RuleViolation):
    """A feature an admin switched off (the message says why, for everyone alike), or a node
    out of room for the request. `retry_after`: whole seconds after which trying again may
    succeed, where the refusal knows."""

    status = 503

    def __init__(self, code: str, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(code, message)
        self.retry_after = retry_after


class Gone(RuleViolation):
    """It existed and was removed on purpose, for good (a deleted recording, a space ended by
    moderation)."""

    status = 410


class BadRequest(RuleViolation):
    """A request a protocol says to refuse with 400 (an HLS delivery directive out of range)."""

    status = 400
