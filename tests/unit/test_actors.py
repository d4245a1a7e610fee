"""The actor a use case runs for: an account, or the node's operator at the command line. What
the operator may do is decided here, in core, so no service has a command-line branch."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial

import pytest

from parley.core import moderation
from parley.core.accounts import Account, AccountState, check_new_handle
from parley.core.actors import OPERATOR, Actor
from parley.core.errors import RuleViolation

ACTIVE, SUSPENDED, DEACTIVATED = (
    AccountState.ACTIVE,
    AccountState.SUSPENDED,
    AccountState.DEACTIVATED,
)


def account(handle: str, *, admin: bool = False, state: AccountState = ACTIVE) -> Account:
    return Account(handle, handle, handle, "", state, admin, datetime(2026, 1, 1, tzinfo=UTC))


MOD = account("mod", admin=True)


def refused(code: str, attempt: Callable[[], object]) -> None:
    with pytest.raises(RuleViolation) as caught:
        attempt()
    assert caught.value.code == code


def test_the_operator_moderates_without_an_account() -> None:
    assert OPERATOR.is_operator and OPERATOR.account_id is None
    assert not Actor(MOD).is_operator and Actor(MOD).account_id == "mod"
    moderation.require_moderator(OPERATOR)
    moderation.require_moderator(Actor(MOD))
    refused("moderators_only", partial(moderation.require_moderator, Actor(account("someone"))))


def test_suspension_rules_for_the_operator_and_for_moderators() -> None:
    for actor in (OPERATOR, Actor(MOD)):
        # Deleted stays deleted: a suspension, once lifted, would make it active.
        deleted = account("t", state=DEACTIVATED)
        refused("account_deactivated", partial(moderation.may_suspend, actor, deleted))
        suspended, active = account("t", state=SUSPENDED), account("t")
        refused("already_suspended", partial(moderation.may_suspend, actor, suspended))
        refused("not_suspended", partial(moderation.may_unsuspend, actor, active))
    refused("cannot_suspend_self", partial(moderation.may_suspend, Actor(MOD), MOD))


def test_only_the_operator_gives_out_reserved_handles() -> None:
    assert check_new_handle("support", "Parley", by=OPERATOR) == "support"
    refused("reserved_handle", partial(check_new_handle, "support", "Parley", by=None))
    refused("reserved_handle", partial(check_new_handle, "support", "Parley", by=Actor(MOD)))
    refused("invalid_handle", partial(check_new_handle, "no spaces", "Parley", by=OPERATOR))
