"""Sign-up, sign-in, sessions, profiles and the social graph (posts: services/posts.py;
notifications: services/notifications.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import KW_ONLY, dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from parley.bus import messages
from parley.bus.base import Bus
from parley.bus.messages import SessionsEnded
from parley.core import accounts as rules
from parley.core import sessions as session_rules
from parley.core.accounts import Account, AccountState
from parley.core.actors import Actor
from parley.core.errors import Conflict, Forbidden, NotFound, SuspendedSignIn, Unauthenticated
from parley.core.moderation import ModerationAction
from parley.core.ratelimit import LimitName
from parley.core.session_cache import SessionCache
from parley.core.sessions import SessionEnd, SessionPolicy, SessionTimes
from parley.services.batches import Batches
from parley.services.common import Clock, hash_token, new_id, new_session_token
from parley.services.passwords import Passwords
from parley.services.ratelimit import RateLimiter
from parley.store.accounts import (
    AccountStore,
    SessionFound,
    SessionStore,
    SocialStore,
    StoredSession,
)
from parley.store.db import Database
from parley.store.moderation import ModerationStore
from parley.store.tokens import TOKEN_SESSION_SCOPE

FULL_SCOPE = "full"
APPEAL_SCOPE = "appeal"


@dataclass(frozen=True)
class Caller(Actor):
    """Who is making a request, resolved from a bearer token: an account acting through one of
    its sessions."""

    account: Account
    session_id: str


@dataclass(frozen=True)
class Profile:
    account: Account
    followers: int
    following: int
    followed_by_me: bool
    blocked_by_me: bool


async def add_account(
    conn: AsyncConnection,
    handle: str,
    display_name: str,
    password_hash: str,
    *,
    is_admin: bool,
    now: datetime,
) -> Account:
    """A new account, a person's or a bot's, in the caller's transaction; `handle_taken` when
    another has the handle in any case."""
    account = await AccountStore(conn).create(
        id=new_id(),
        handle=handle,
        display_name=display_name,
        password_hash=password_hash,
        is_admin=is_admin,
        now=now,
    )
    if account is None:
        raise Conflict("handle_taken", "That handle is taken")
    return account


def _times(session: StoredSession) -> SessionTimes:
    return SessionTimes(session.created_at, session.last_used_at, session.scope == APPEAL_SCOPE)


@dataclass(eq=False)
class AccountService:
    db: Database
    passwords: Passwords
    _: KW_ONLY
    # Refuses text with a blocked link in it (LinkChecks.guard): names, bios.
    guard_links: Callable[[str], Awaitable[None]]
    # Ended sessions are announced here, so every node closes what they hold open.
    bus: Bus
    sessions: SessionPolicy
    # Sign-in checks its limits itself: they depend on the handle in the body.
    limits: RateLimiter
    # What session expiry reads the time from; tests move it instead of waiting.
    clock: Clock
    # Handles that read as the instance speaking are reserved (core.accounts).
    instance_name: str = "Parley"
    # How long a session is answered from memory (0: never).
    session_cache_seconds: float = 0.0
    # Sessions authenticated lately, by token hash; emptied by the bus and the sweep.
    session_cache: SessionCache = field(init=False)
    # Tokens not in the cache, looked up together when they come together (a join rush).
    _lookups: Batches[str, str, SessionFound | None] = field(init=False)

    def __post_init__(self) -> None:
        self.session_cache = SessionCache(timedelta(seconds=self.session_cache_seconds))
        self._lookups = Batches(self._look_up)

    async def close(self) -> None:
        await self._lookups.close()

    async def _look_up(
        self, _key: str, token_hashes: Sequence[str]
    ) -> list[SessionFound | Exception | None]:
        async with self.db.read() as conn:
            found = await SessionStore(conn).accounts_for(token_hashes)
        return [found.get(key) for key in token_hashes]

    async def sign_up(
        self,
        handle: str,
        password: str,
        display_name: str,
        *,
        is_admin: bool = False,
        by: Actor | None = None,
    ) -> Account:
        """A new account. `by`: who creates it (see core.accounts.check_new_handle); None when
        a person signs up."""
        rules.check_new_handle(handle, self.instance_name, by=by)
        rules.check_password(password)
        name = rules.clean_display_name(display_name)
        await self.guard_links(name)  # a name is user content like any other
        password_hash = await self.passwords.hash(password)
        async with self.db.write() as conn:
            return await add_account(
                conn, handle, name, password_hash, is_admin=is_admin, now=self.clock()
            )

    async def sign_in(self, handle: str, password: str, address: str) -> tuple[str, Account]:
        """A new bearer token for the account. `address`: the client's, for the limits, which
        are checked before any argon2 work is done: a guess costs the guesser, not the node."""
        await self.limits.check(LimitName.SIGN_IN_ADDRESS, address)
        async with self.db.read() as conn:
            store = AccountStore(conn)
            account = await store.by_handle(handle) if rules.HANDLE_RE.fullmatch(handle) else None
            stored = await store.password_hash(account.id) if account else None
        # Per handle, so many addresses together cannot guess one password faster; the owner's
        # own addresses are spared, so a flood against a handle does not lock its owner out.
        # An unknown handle is counted too: whether it exists must not show in the answers.
        # The same look-ups whether the handle exists or not (a Redis round trip would show).
        target = account.id if account else f"unknown:{handle.lower()}"
        known = await self.limits.known_address(target, address) and account is not None
        if not known:
            await self.limits.check(LimitName.SIGN_IN_HANDLE, target)
        if not await self.passwords.verify(stored, password, known=known) or account is None:
            raise Unauthenticated("invalid_credentials", "Wrong handle or password")
        await self.limits.remember_address(account.id, address)
        if account.state is AccountState.SUSPENDED:
            await self._refuse_suspended(account)
        rules.check_usable(account)
        # Hashed before the transaction, so the database is not held for a hash's length; in
        # the owner's lane, since the password was just found right.
        rehashed = (
            await self.passwords.hash(password, known=True)
            if stored is not None and self.passwords.needs_rehash(stored)
            else None
        )
        token = new_session_token()
        async with self.db.write() as conn:
            await SessionStore(conn).create(
                id=new_id(), account_id=account.id, token_hash=hash_token(token), now=self.clock()
            )
            if rehashed is not None:
                await AccountStore(conn).set_password_hash(account.id, rehashed)
        return token, account

    async def _refuse_suspended(self, account: Account) -> None:
        """The password was right but the account is suspended: refuse, saying what happened,
        under which rule, why, and with a token good only for reading notices and appealing."""
        token = new_session_token()
        async with self.db.write() as conn:
            await SessionStore(conn).create(
                id=new_id(),
                account_id=account.id,
                token_hash=hash_token(token),
                now=self.clock(),
                scope=APPEAL_SCOPE,
            )
            notice = await ModerationStore(conn).latest_notice(account.id, ModerationAction.SUSPEND)
        raise SuspendedSignIn(notice, token)

    async def authenticate(self, token: str, *, for_appeal: bool = False) -> Caller:
        """The caller behind a bearer token. Every authenticated path comes here. A session
        this node authenticated lately comes from its cache (`session_cache`), which the bus
        empties of a suspended account's or an ended session's entries at once and the sweep
        re-checks against the database every interval, should a bus message be lost.
        `for_appeal`: the few routes a suspended account may use (its notices, its appeal)."""
        key, now = hash_token(token), self.clock()
        cached = self.session_cache.get(key, now)
        if cached is not None and not session_rules.expired(self.sessions, cached.times, now):
            if session_rules.needs_touch(self.sessions, cached.times, now):
                await self._touch(cached.session_id, now)
                self.session_cache.touched(key, now)
            return Caller(cached.account, cached.session_id)
        generation = self.session_cache.generation
        found = await self._lookups.submit("sessions", key)
        if found is None:
            raise Unauthenticated("invalid_token", "Sign in again: this token is not valid")
        session, account = found
        times = _times(session)
        if session_rules.expired(self.sessions, times, now):
            raise Unauthenticated("session_expired", "Sign in again: this session has expired")
        if session_rules.needs_touch(self.sessions, times, now):
            await self._touch(session.id, now)
            times = replace(times, last_used_at=now)
        if for_appeal and account.state is AccountState.SUSPENDED:
            return Caller(account, session.id)
        if session.scope != FULL_SCOPE:
            raise Forbidden("appeal_only", "This token is only good for notices and appeals")
        rules.check_usable(account)
        self.session_cache.put(key, session.id, account, times, now, generation=generation)
        return Caller(account, session.id)

    async def _touch(self, session_id: str, now: datetime) -> None:
        async with self.db.write() as conn:
            await SessionStore(conn).touch(
                session_id, now, unless_after=now - self.sessions.touch_every
            )

    async def suspended_among(self, account_ids: set[str]) -> list[str]:
        if not account_ids:
            return []
        async with self.db.read() as conn:
            return await AccountStore(conn).in_state(sorted(account_ids), AccountState.SUSPENDED)

    async def ended_among(self, session_ids: set[str]) -> dict[str, SessionEnd]:
        """Which of these sessions are over, and why: the sweep's check of what open sockets
        and media connections stand on (one query per thousand sessions, reading back only
        the few that may have ended)."""
        ids, now = sorted(session_ids), self.clock()
        used_since, created_since = session_rules.surely_live(self.sessions, now)
        ended: dict[str, SessionEnd] = {}
        async with self.db.read() as conn:
            for start in range(0, len(ids), 1000):
                maybe = await SessionStore(conn).maybe_ended(
                    ids[start : start + 1000],
                    used_since=used_since,
                    created_since=created_since,
                    always_read=APPEAL_SCOPE,  # their own, shorter lifetime
                )
                for session_id, session in maybe.items():
                    if session is None:
                        ended[session_id] = SessionEnd.REVOKED
                    elif session.scope != TOKEN_SESSION_SCOPE and session_rules.expired(
                        self.sessions, _times(session), now
                    ):  # an API token lives until revoked: a bot may run for months
                        ended[session_id] = SessionEnd.EXPIRED
        return ended

    async def sign_out(self, caller: Caller) -> None:
        async with self.db.write() as conn:
            await SessionStore(conn).revoke(caller.session_id, self.clock())
        await self._announce_ended(caller.account.id, [caller.session_id])

    async def sign_out_everywhere(self, caller: Caller) -> None:
        """Every session of the account ends, this one included."""
        async with self.db.write() as conn:
            ended = await SessionStore(conn).revoke_all(caller.account.id, self.clock())
        await self._announce_ended(caller.account.id, ended)

    async def change_password(self, caller: Caller, current: str, new: str) -> None:
        """Only with the current password; every other session of the account ends (whoever
        may have learnt the old password is signed out), this one goes on."""
        rules.check_password(new)
        await self.confirm_password(caller, current)
        new_hash = await self.passwords.hash(new, known=True)
        async with self.db.write() as conn:
            await AccountStore(conn).set_password_hash(caller.account.id, new_hash)
            ended = await SessionStore(conn).revoke_all(
                caller.account.id, self.clock(), keep=caller.session_id
            )
        await self._announce_ended(caller.account.id, ended)

    async def confirm_password(self, caller: Caller, password: str) -> None:
        """Raise unless it is the caller's password: a session left open on a shared computer
        is not enough to change it or to delete the account."""
        async with self.db.read() as conn:
            stored = await AccountStore(conn).password_hash(caller.account.id)
        if not await self.passwords.verify(stored, password, known=True):
            # Not 401: the caller's session is fine, only the password they typed is wrong.
            raise Forbidden("wrong_password", "The current password is not right")

    async def _announce_ended(self, account_id: str, session_ids: list[str]) -> None:
        # This node forgets them before answering; the others as the bus tells them.
        self.session_cache.forget_sessions(set(session_ids))
        if session_ids:
            order = SessionsEnded(account_id, tuple(session_ids), SessionEnd.REVOKED)
            await messages.publish(self.bus, order)

    async def by_handle(self, handle: str) -> Account:
        async with self.db.read() as conn:
            account = await AccountStore(conn).by_handle(handle)
        if account is None or account.state is AccountState.DEACTIVATED:
            raise NotFound("account_not_found", f"No account @{handle}")
        return account

    async def find_people(self, text: str, limit: int) -> list[Account]:
        """People to follow: by a part of their handle or name, as anyone may look them up."""
        wanted = text.strip()
        if not wanted:
            return []
        async with self.db.read() as conn:
            return await AccountStore(conn).find_people(wanted, limit)

    async def shown(self, handle: str) -> Account:
        """An account whose profile and posts anyone may read: not while it is suspended (404
        `account_unavailable`, saying so; all is back once the suspension is lifted)."""
        account = await self.by_handle(handle)
        if account.state is AccountState.SUSPENDED:
            raise NotFound("account_unavailable", f"@{account.handle} is suspended")
        return account

    async def profile(self, handle: str, viewer: Caller | None) -> Profile:
        account = await self.shown(handle)
        async with self.db.read() as conn:
            social = SocialStore(conn)
            followers, following = await social.counts(account.id)
            me = viewer.account.id if viewer else None
            followed = bool(me) and await social.follows(me or "", account.id)
            blocked = bool(me) and await social.blocks(me or "", account.id)
        return Profile(account, followers, following, followed, blocked)

    async def update_profile(
        self, caller: Caller, *, display_name: str | None, bio: str | None
    ) -> Account:
        rules.check_may_contribute(caller.account)
        values: dict[str, str] = {}
        if display_name is not None:
            values["display_name"] = rules.clean_display_name(display_name)
        if bio is not None:
            values["bio"] = rules.clean_bio(bio)
        for text in values.values():
            await self.guard_links(text)
        async with self.db.write() as conn:
            store = AccountStore(conn)
            await store.update_profile(caller.account.id, values)
            account = await store.by_id(caller.account.id)
        assert account is not None
        return account

    async def _other(self, caller: Caller, handle: str) -> Account:
        other = await self.by_handle(handle)
        if other.id == caller.account.id:
            raise Conflict("cannot_target_self", "You cannot do that to yourself")
        return other

    async def follow(self, caller: Caller, handle: str) -> None:
        other = await self._other(caller, handle)
        async with self.db.write() as conn:
            social = SocialStore(conn)
            if await social.blocks(other.id, caller.account.id):
                raise Forbidden("blocked", "This account has blocked you")
            if await social.blocks(caller.account.id, other.id):
                raise Conflict("unblock_first", "Unblock this account to follow it")
            await social.follow(caller.account.id, other.id, self.clock())

    async def unfollow(self, caller: Caller, handle: str) -> None:
        other = await self._other(caller, handle)
        async with self.db.write() as conn:
            await SocialStore(conn).unfollow(caller.account.id, other.id)

    async def block(self, caller: Caller, handle: str) -> Account:
        other = await self._other(caller, handle)
        async with self.db.write() as conn:
            await SocialStore(conn).block(caller.account.id, other.id, self.clock())
        return other

    async def unblock(self, caller: Caller, handle: str) -> None:
        other = await self._other(caller, handle)
        async with self.db.write() as conn:
            await SocialStore(conn).unblock(caller.account.id, other.id)
