"""Rule violations decided in `core`; the API turns each into a problem document with its code."""

from __future__ import annotations


class RuleViolation(Exception):
    """A request the rules refuse. `code` is stable: clients and tests match on it."""

    status = 403

    def __init__(self, code: str, message: str, **details: object) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        # Extra members of the problem document (e.g. the notice a suspended account sees).
        self.details = details


class Forbidden(RuleViolation):
    """The actor's role does not allow the action."""

    status = 403


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
    """A feature an admin switched off; the message says why, for everyone alike."""

    status = 503


class Gone(RuleViolation):
    """It existed and was removed on purpose (a deleted recording)."""

    status = 410
