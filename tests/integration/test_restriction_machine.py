"""Suspensions, limits, their ends and appeals, in any order, against a model of what each
promises: Hypothesis drives the real services of one running node (its database, its clock moved
instead of waited on, its sweeps run by hand) through suspend, limit, unsuspend, unlimit, time
passing and appeals decided either way, and after every step the account must be what the model
says: suspended while a suspension holds, else limited while a limit holds, else active; each
with its own end; a limit a suspension came over waiting under it, to hold again when the
suspension ends unless its own end came first; an overturned appeal ending only what its own
action imposed; a refusal (409) exactly where the model refuses. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import select

from parley.core.accounts import Account, AccountState
from parley.core.actors import OPERATOR
from parley.core.errors import Conflict
from parley.core.moderation import HeldLimit
from parley.core.moderation_records import NoticeRead
from parley.services.accounts import Caller
from parley.store.accounts import AccountStore
from parley.store.restrictions import RestrictionStore
from parley.store.tables import accounts
from tests.support.clients import PASSWORD
from tests.support.servers import ServerThread, serve

# How long a restriction lasts (None: until lifted) and how far time moves in one step: of a
# size that lets ends come in every order.
ENDS = st.sampled_from([None, 1, 3, 8])
STEPS = st.sampled_from([0.5, 1, 2, 5])


@dataclass(frozen=True)
class Held:
    """A restriction as the model knows it: the action behind it, and its end."""

    action_id: str
    until: datetime | None

    def over_at(self, now: datetime) -> bool:
        return self.until is not None and self.until <= now


@dataclass
class Model:
    suspension: Held | None = None
    limit: Held | None = None
    waiting: Held | None = None  # a limit under the suspension
    # Notices not appealed yet: (notice id, "suspend" or "limit", the action's id).
    notices: list[tuple[str, str, str]] = field(default_factory=list)

    def state(self) -> AccountState:
        if self.suspension is not None:
            return AccountState.SUSPENDED
        return AccountState.LIMITED if self.limit is not None else AccountState.ACTIVE

    def suspension_ends(self, now: datetime) -> None:
        self.suspension = None
        if self.waiting is not None and not self.waiting.over_at(now):
            self.limit = self.waiting
        self.waiting = None


class Restrictions(RuleBasedStateMachine):
    server: ServerThread
    moderator: Caller
    accounts_made = 0

    def __init__(self) -> None:
        super().__init__()
        Restrictions.accounts_made += 1
        self.handle = f"acct{Restrictions.accounts_made}"
        node = self.server.node
        self.account = self.server.call(
            node.accounts.sign_up(self.handle, PASSWORD, self.handle, by=OPERATOR)
        )
        self.model = Model()

    @property
    def now(self) -> datetime:
        return self.server.node.clock.now()

    def _until(self, hours: int | None) -> datetime | None:
        return None if hours is None else self.now + timedelta(hours=hours)

    def _refused(self, work: Coroutine[Any, Any, object], code: str) -> None:
        try:
            self.server.call(work)
        except Conflict as refusal:
            assert refusal.code == code, refusal.code
        else:
            raise AssertionError(f"expected 409 {code}")

    @staticmethod
    def _held(notice: NoticeRead, until: datetime | None) -> Held:
        assert notice.notice.action_id is not None
        return Held(notice.notice.action_id, until)

    def _remember(self, notice: NoticeRead, kind: str) -> None:
        action_id = notice.notice.action_id
        assert action_id is not None
        self.model.notices.append((notice.notice.id, kind, action_id))

    @rule(hours=ENDS)
    def suspend(self, hours: int | None) -> None:
        until = self._until(hours)
        work = self.server.node.moderation.suspend(OPERATOR, self.handle, "spam", "Why", until)
        if self.model.suspension is not None:
            self._refused(work, "already_suspended")
            return
        done = self.server.call(work)
        self._remember(done.notice, "suspend")
        self.model.waiting, self.model.limit = self.model.limit, None
        self.model.suspension = self._held(done.notice, until)

    @rule(hours=ENDS)
    def limit(self, hours: int | None) -> None:
        until = self._until(hours)
        work = self.server.node.account_limits.limit(OPERATOR, self.handle, "spam", "Why", until)
        if self.model.suspension is not None:
            self._refused(work, "already_suspended")
        elif self.model.limit is not None:
            self._refused(work, "already_limited")
        else:
            done = self.server.call(work)
            self._remember(done.notice, "limit")
            self.model.limit = self._held(done.notice, until)

    @rule()
    def unsuspend(self) -> None:
        work = self.server.node.moderation.unsuspend(OPERATOR, self.handle, "Lifted")
        if self.model.suspension is None:
            self._refused(work, "not_suspended")
            return
        self.server.call(work)
        self.model.suspension_ends(self.now)

    @rule()
    def unlimit(self) -> None:
        work = self.server.node.account_limits.unlimit(OPERATOR, self.handle, "Lifted")
        if self.model.state() is not AccountState.LIMITED:
            self._refused(work, "not_limited")
            return
        self.server.call(work)
        self.model.limit = None

    @rule(hours=STEPS)
    def time_passes(self, hours: float) -> None:
        """Then each node's sweep, in its order: suspensions that ran out, then limits."""
        node = self.server.node
        node.clock.advance(timedelta(hours=hours))
        now = self.now
        self.server.call(node.moderation.sweep())
        self.server.call(node.account_limits.sweep())
        if self.model.suspension is not None and self.model.suspension.over_at(now):
            self.model.suspension_ends(now)
        if self.model.limit is not None and self.model.limit.over_at(now):
            self.model.limit = None

    @rule(pick=st.integers(min_value=0), overturn=st.booleans())
    def appeal(self, pick: int, overturn: bool) -> None:
        if not self.model.notices:
            return
        notice_id, kind, action_id = self.model.notices.pop(pick % len(self.model.notices))
        node = self.server.node
        account = self._read_account()
        appeal = self.server.call(node.moderation.appeal(account, notice_id, "Not me"))
        decision = "overturned" if overturn else "upheld"
        self.server.call(node.moderation.decide_appeal(self.moderator, appeal.id, decision, "R"))
        if not overturn:
            return
        model = self.model
        if kind == "suspend" and model.suspension and model.suspension.action_id == action_id:
            model.suspension_ends(self.now)
        elif kind == "limit" and model.limit and model.limit.action_id == action_id:
            model.limit = None
        elif kind == "limit" and model.waiting and model.waiting.action_id == action_id:
            model.waiting = None

    @invariant()
    def as_the_model_says(self) -> None:
        state, until, waiting = self.server.call(self._stored())
        expected = self.model.state()
        assert state is expected
        holding = self.model.suspension or self.model.limit
        assert until == (holding.until if holding else None)
        held = self.model.waiting
        assert waiting == (HeldLimit(held.action_id, held.until) if held else None)

    def _read_account(self) -> Account:
        async def read() -> Account:
            async with self.server.node.db.read() as conn:
                found = await AccountStore(conn).by_id(self.account.id)
            assert found is not None
            return found

        return self.server.call(read())

    async def _stored(self) -> tuple[AccountState, datetime | None, HeldLimit | None]:
        async with self.server.node.db.read() as conn:
            query = select(accounts.c.state, accounts.c.suspended_until)
            row = (await conn.execute(query.where(accounts.c.id == self.account.id))).one()
            waiting = await RestrictionStore(conn).held_limit(self.account.id)
        return AccountState(row.state), row.suspended_until, waiting


async def test_restrictions_keep_their_promises_in_any_order(database_url: str) -> None:
    with serve(database_url=database_url, sweep_interval_seconds=3600) as server:
        node = server.node
        mod = server.call(node.accounts.sign_up("mod", PASSWORD, "Mod", is_admin=True, by=OPERATOR))
        Restrictions.server = server
        Restrictions.moderator = Caller(mod, session_id="the moderator's")
        run_state_machine_as_test(
            Restrictions,
            settings=settings(
                max_examples=150,
                stateful_step_count=12,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            ),
        )
