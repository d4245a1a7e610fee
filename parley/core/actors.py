"""Who acts: an account (a signed-in person, through a session), or the node's operator.

The operator is whoever runs the node, acting from its command line with no account. The rules
say what that changes (no moderator role to hold, reserved handles open to them, the audit log
recording no account), so no use case needs a branch of its own for the command line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from parley.core.accounts import Account


@dataclass(frozen=True)
class Actor:
    account: Account | None  # None: the operator

    @property
    def is_operator(self) -> bool:
        return self.account is None

    @property
    def account_id(self) -> str | None:
        """Who the audit log records: the account, or no one for the operator."""
        return self.account.id if self.account is not None else None


OPERATOR: Final = Actor(None)
