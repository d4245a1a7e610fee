"""Suspensions, limits, their ends and appeals, in any order, on a person and their bot, against
a model of what each promises: Hypothesis drives the real services of one running node (its
database, its clock moved instead of waited on, its sweeps run by hand) through suspend, limit,
unsuspend, unlimit, time passing and appeals decided either way, and after every step each
account must be what the model says. The model says it simply:

- an account is suspended while a suspension of its own holds, else limited while a limit of its
  own holds, else active; each with its own end;
- a limit a suspension came over waits under it, to hold again when the suspension ends, unless
  its own end came first;
- a bot is also suspended while its owner is, and limited while its owner is limited (with no
  end of its own then); its own restrictions run their course beside its owner's;
- a bot its owner deleted, or a person who deleted their account (and their bots with it),
  stays deleted, whatever comes after;
- an overturned appeal (a bot's made by its owner) ends only what its own action imposed, and a
  moderator is refused (409) exactly where the model refuses: already so, not so, deleted, or
  the owner's restriction still holding.

On SQLite and PostgreSQL."""

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

SUSPENDED, LIMITED, ACTIVE = AccountState.SUSPENDED, AccountState.LIMITED, AccountState.ACTIVE
# How long a restriction lasts (None: until lifted) and how far time moves in one step: of a
# size that lets ends come in every order.
ENDS = st.sampled_from([None, 1, 3, 8])
STEPS = st.sampled_from([0.5, 1, 2, 5])
WHO = st.sampled_from(["owner", "bot"])
REFUSED_SUSPENSION = {
    SUSPENDED: "already_suspended",
    AccountState.DEACTIVATED: "account_deactivated",
}
REFUSED_LIMIT = {**REFUSED_SUSPENSION, LIMITED: "already_limited"}


@dataclass(frozen=True)
class Held:
    """A restriction as the model knows it: the action behind it, and its end."""

    action_id: str
    until: datetime | None

    def over_at(self, now: datetime) -> bool:
        return self.until is not None and self.until <= now


@dataclass
class Own:
    """An account's own restrictions."""

    suspension: Held | None = None
    limit: Held | None = None
    waiting: Held | None = None  # its own limit, under a suspension (its own or its owner's)

    def resume(self, now: datetime) -> None:
        if self.waiting is not None and not self.waiting.over_at(now):
            self.limit = self.waiting
        self.waiting = None


@dataclass
class Model:
    owner: Own = field(default_factory=Own)
    bot: Own = field(default_factory=Own)
    bot_deleted: bool = False
    owner_deleted: bool = False
    # Notices not appealed yet: (whose, notice id, "suspend" or "limit", the action's id).
    notices: list[tuple[str, str, str, str]] = field(default_factory=list)

    def state(self, who: str) -> AccountState:
        if (who == "bot" and self.bot_deleted) or (who == "owner" and self.owner_deleted):
            return AccountState.DEACTIVATED
        mine, owners = (self.bot, self.owner) if who == "bot" else (self.owner, None)
        if mine.suspension is not None or (owners and owners.suspension is not None):
            return SUSPENDED
        if mine.limit is not None or (owners and owners.limit is not None):
            return LIMITED
        return ACTIVE

    def until(self, who: str) -> datetime | None:
        """The end the account's row shows: its own restriction's, none when it holds only
        with its owner."""
        mine = self.bot if who == "bot" else self.owner
        state = self.state(who)
        if state is AccountState.DEACTIVATED:
            return None
        own = mine.suspension if state is SUSPENDED else mine.limit
        return own.until if own is not None else None

    def suspend(self, who: str, held: Held) -> None:
        mine = self.bot if who == "bot" else self.owner
        mine.waiting, mine.limit, mine.suspension = mine.limit, None, held
        if who == "owner" and self.bot.suspension is None and self.bot.limit is not None:
            self.bot.waiting, self.bot.limit = self.bot.limit, None

    def suspension_ends(self, who: str, now: datetime) -> None:
        mine = self.bot if who == "bot" else self.owner
        mine.suspension = None
        if who == "owner":
            self.owner.resume(now)
            if self.bot.suspension is None and not self.bot_deleted:
                self.bot.resume(now)
        elif self.owner.suspension is None:
            self.bot.resume(now)  # else it waits for the owner's end

    def limit_ends(self, who: str, action_id: str | None = None) -> None:
        """The limit ends (only the one `action_id` imposed, when given): holding or waiting."""
        mine = self.bot if who == "bot" else self.owner
        if mine.limit is not None and action_id in (None, mine.limit.action_id):
            mine.limit = None
        elif mine.waiting is not None and mine.waiting.action_id == action_id:
            mine.waiting = None


class Restrictions(RuleBasedStateMachine):
    server: ServerThread
    moderator: Caller
    made = 0

    def __init__(self) -> None:
        super().__init__()
        Restrictions.made += 1
        node = self.server.node
        handle = f"owner{Restrictions.made}"
        owner = self.server.call(node.accounts.sign_up(handle, PASSWORD, handle, by=OPERATOR))
        bot = self.server.call(node.bots.create(Caller(owner, "s"), f"bot{self.made}", "Bot"))
        self.accounts = {"owner": owner, "bot": bot}
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

    def _held(self, who: str, notice: NoticeRead, kind: str, until: datetime | None) -> Held:
        action_id = notice.notice.action_id
        assert action_id is not None
        self.model.notices.append((who, notice.notice.id, kind, action_id))
        return Held(action_id, until)

    @rule(who=WHO, hours=ENDS)
    def suspend(self, who: str, hours: int | None) -> None:
        until, handle = self._until(hours), self.accounts[who].handle
        work = self.server.node.moderation.suspend(OPERATOR, handle, "spam", "Why", until)
        if self.model.state(who) in REFUSED_SUSPENSION:
            self._refused(work, REFUSED_SUSPENSION[self.model.state(who)])
            return
        done = self.server.call(work)
        self.model.suspend(who, self._held(who, done.notice, "suspend", until))

    @rule(who=WHO, hours=ENDS)
    def limit(self, who: str, hours: int | None) -> None:
        until, handle = self._until(hours), self.accounts[who].handle
        work = self.server.node.account_limits.limit(OPERATOR, handle, "spam", "Why", until)
        state = self.model.state(who)
        if state is not ACTIVE:
            self._refused(work, REFUSED_LIMIT[state])
            return
        done = self.server.call(work)
        mine = self.model.bot if who == "bot" else self.model.owner
        mine.limit = self._held(who, done.notice, "limit", until)

    @rule(who=WHO)
    def unsuspend(self, who: str) -> None:
        work = self.server.node.moderation.unsuspend(OPERATOR, self.accounts[who].handle, "Ok")
        if self.model.state(who) is not SUSPENDED:
            self._refused(work, "not_suspended")
        elif who == "bot" and self.model.state("owner") is SUSPENDED:
            self._refused(work, "owner_suspended")
        else:
            self.server.call(work)
            self.model.suspension_ends(who, self.now)

    @rule(who=WHO)
    def unlimit(self, who: str) -> None:
        work = self.server.node.account_limits.unlimit(OPERATOR, self.accounts[who].handle, "Ok")
        if self.model.state(who) is not LIMITED:
            self._refused(work, "not_limited")
        elif who == "bot" and self.model.state("owner") is LIMITED:
            self._refused(work, "owner_limited")
        else:
            self.server.call(work)
            self.model.limit_ends(who)

    @rule(hours=STEPS)
    def time_passes(self, hours: float) -> None:
        """Then each node's sweep, in its order: suspensions that ran out, then limits."""
        node = self.server.node
        node.clock.advance(timedelta(hours=hours))
        now = self.now
        self.server.call(node.moderation.sweep())
        self.server.call(node.account_limits.sweep())
        for who, mine in (("owner", self.model.owner), ("bot", self.model.bot)):
            if mine.suspension is not None and mine.suspension.over_at(now):
                self.model.suspension_ends(who, now)
        for mine in (self.model.owner, self.model.bot):
            if mine.limit is not None and mine.limit.over_at(now):
                mine.limit = None

    @rule()
    def delete_bot(self) -> None:
        """As its owner may, unless suspended (then they cannot act at all)."""
        if self.model.bot_deleted or self.model.state("owner") is SUSPENDED:
            return
        owner = Caller(self._read_account(self.accounts["owner"].id), "s")
        self.server.call(self.server.node.bots.delete(owner, self.accounts["bot"].handle))
        # Its own restrictions end with it; a limit waiting under its suspension stays written.
        self.model.bot = Own(waiting=self.model.bot.waiting)
        self.model.bot_deleted = True

    @rule()
    def owner_deletes_their_account(self) -> None:
        """With their password, unless suspended (then they cannot sign in); their bots go too."""
        if self.model.owner_deleted or self.model.state("owner") is SUSPENDED:
            return
        owner = Caller(self._read_account(self.accounts["owner"].id), "s")
        self.server.call(self.server.node.deactivation.deactivate(owner, PASSWORD))
        self.model.owner = Own(waiting=self.model.owner.waiting)
        self.model.bot = Own(waiting=self.model.bot.waiting)
        self.model.owner_deleted = self.model.bot_deleted = True

    @rule(pick=st.integers(min_value=0), overturn=st.booleans())
    def appeal(self, pick: int, overturn: bool) -> None:
        if not self.model.notices:
            return
        who, notice_id, kind, action_id = self.model.notices.pop(pick % len(self.model.notices))
        node = self.server.node
        # A bot's notice is appealed by its owner, as the API lets only the owner do.
        account = self._read_account(self.accounts["owner"].id)
        appeal = self.server.call(node.moderation.appeal(account, notice_id, "Not me"))
        decision = "overturned" if overturn else "upheld"
        self.server.call(node.moderation.decide_appeal(self.moderator, appeal.id, decision, "R"))
        if not overturn:
            return
        mine = self.model.bot if who == "bot" else self.model.owner
        if kind == "limit":
            self.model.limit_ends(who, action_id)
        elif mine.suspension is not None and mine.suspension.action_id == action_id:
            self.model.suspension_ends(who, self.now)

    @invariant()
    def as_the_model_says(self) -> None:
        for who, account in self.accounts.items():
            state, until, waiting = self.server.call(self._stored(account.id))
            assert (who, state) == (who, self.model.state(who))
            assert (who, until) == (who, self.model.until(who))
            held = (self.model.bot if who == "bot" else self.model.owner).waiting
            assert (who, waiting) == (who, HeldLimit(held.action_id, held.until) if held else None)

    def _read_account(self, account_id: str) -> Account:
        async def read() -> Account:
            async with self.server.node.db.read() as conn:
                found = await AccountStore(conn).by_id(account_id)
            assert found is not None
            return found

        return self.server.call(read())

    async def _stored(
        self, account_id: str
    ) -> tuple[AccountState, datetime | None, HeldLimit | None]:
        async with self.server.node.db.read() as conn:
            query = select(accounts.c.state, accounts.c.suspended_until)
            row = (await conn.execute(query.where(accounts.c.id == account_id))).one()
            waiting = await RestrictionStore(conn).held_limit(account_id)
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


async def test_a_bots_own_restriction_overturned_leaves_it_under_its_owners(
    database_url: str,
) -> None:
    """What the machine found: a bot limited on its own, then with its limited owner, became
    active when an appeal overturned its own limit, though its owner was still limited; and
    likewise suspended under a suspended owner."""
    with serve(database_url=database_url, sweep_interval_seconds=3600) as server:
        node = server.node
        mod = server.call(node.accounts.sign_up("mod", PASSWORD, "Mod", is_admin=True, by=OPERATOR))
        owner = server.call(node.accounts.sign_up("owner", PASSWORD, "Owner", by=OPERATOR))
        bot = server.call(node.bots.create(Caller(owner, "s"), "owner_bot", "Bot"))

        async def state() -> AccountState:
            async with node.db.read() as conn:
                found = await AccountStore(conn).by_id(bot.id)
            assert found is not None
            return found.state

        async def overturn(notice: NoticeRead) -> AccountState:
            appeal = await node.moderation.appeal(owner, notice.notice.id, "Not spam")
            await node.moderation.decide_appeal(Caller(mod, "m"), appeal.id, "overturned", "Ok")
            return await state()

        limited = server.call(node.account_limits.limit(OPERATOR, "owner_bot", "spam", "Why"))
        server.call(node.account_limits.limit(OPERATOR, "owner", "spam", "Why"))
        assert server.call(overturn(limited.notice)) is LIMITED  # with its owner
        server.call(node.account_limits.unlimit(OPERATOR, "owner", "Served"))
        assert server.call(state()) is ACTIVE

        suspended = server.call(node.moderation.suspend(OPERATOR, "owner_bot", "spam", "Why"))
        server.call(node.moderation.suspend(OPERATOR, "owner", "spam", "Why"))
        assert server.call(overturn(suspended.notice)) is SUSPENDED  # with its owner
        server.call(node.moderation.unsuspend(OPERATOR, "owner", "Served"))
        assert server.call(state()) is ACTIVE
