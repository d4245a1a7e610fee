"""API tokens: made and revoked by a person, for one of their bots or for themselves; each does
only what its scopes allow, and every write it makes counts against its own limit and its
account's.

A token is a session with a name and scopes (store.tokens), so whatever ends a session ends a
token the same way: a suspension revokes both in its transaction, a revocation is announced on
the bus and every node closes the sockets and media opened with it, the sweep catches the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from parley.bus import messages
from parley.bus.messages import SessionsEnded
from parley.core import sessions as session_rules
from parley.core import tokens as rules
from parley.core.accounts import Account, check_usable
from parley.core.errors import Conflict, Forbidden, NotFound, Unauthenticated
from parley.core.ratelimit import LimitName
from parley.core.sessions import SessionEnd, SessionTimes
from parley.core.tokens import Scope, StoredToken
from parley.services.accounts import AccountService, Caller
from parley.services.common import hash_token, new_id, new_token
from parley.store.accounts import AccountStore, SessionStore
from parley.store.tokens import TOKEN_SESSION_SCOPE, BotStore, TokenStore


@dataclass(frozen=True)
class NewToken:
    secret: str  # shown once: only its hash is kept
    token: StoredToken


class TokenService:
    def __init__(self, accounts: AccountService) -> None:
        # Its database, bus, limiter, session policy and clock are the tokens' too.
        self.accounts = accounts

    async def create(
        self, caller: Caller, name: str, scopes: list[str], bot: str | None
    ) -> NewToken:
        """A token for `bot` (a handle of the caller's bots), or for the caller when None."""
        name = rules.clean_token_name(name)
        granted = rules.parse_scopes(scopes)
        secret = rules.TOKEN_PREFIX + new_token()
        token_id, now = new_id(), self.accounts.clock()
        async with self.accounts.db.write() as conn:
            speaker = await self._speaker(conn, caller, bot)
            store = TokenStore(conn)
            if len(await store.of_owner(caller.account.id)) >= rules.MAX_TOKENS_PER_OWNER:
                raise Conflict(
                    "too_many_tokens",
                    f"At most {rules.MAX_TOKENS_PER_OWNER} live tokens: revoke one first",
                )
            await SessionStore(conn).create(
                id=token_id,
                account_id=speaker.id,
                token_hash=hash_token(secret),
                now=now,
                scope=TOKEN_SESSION_SCOPE,
            )
            await store.add(
                session_id=token_id,
                owner_id=caller.account.id,
                name=name,
                scopes=rules.scopes_text(granted),
            )
            made = await store.get(token_id)
        assert made is not None
        return NewToken(secret, made)

    async def _speaker(self, conn: AsyncConnection, caller: Caller, bot: str | None) -> Account:
        bots = BotStore(conn)
        if await bots.owner_account(caller.account.id) is not None:
            raise Forbidden("bot_cannot_make_tokens", "Only a bot's owner makes its tokens")
        if bot is None:
            return caller.account
        account = await AccountStore(conn).by_handle(bot)
        owner = await bots.owner_account(account.id) if account else None
        if account is None or owner is None or owner.id != caller.account.id:
            raise NotFound("bot_not_found", f"You have no bot @{bot}")
        return account

    async def of(self, caller: Caller) -> list[StoredToken]:
        """The caller's live tokens, for their bots and themselves, with their last use."""
        async with self.accounts.db.read() as conn:
            return await TokenStore(conn).of_owner(caller.account.id)

    async def revoke(self, caller: Caller, token_id: str) -> None:
        """Refused at once on every node: the next request with it is 401, and the sockets and
        media opened with it close."""
        async with self.accounts.db.write() as conn:
            token = await TokenStore(conn).get(token_id)
            if token is None or token.owner_id != caller.account.id:
                raise NotFound("token_not_found", "You have no such token")
            if token.revoked_at is None:
                await SessionStore(conn).revoke(token.id, self.accounts.clock())
        order = SessionsEnded(token.account.id, (token.id,), SessionEnd.REVOKED)
        await messages.publish(self.accounts.bus, order)

    async def caller_for(self, bearer: str, method: str, template: str) -> Caller:
        """The caller behind any bearer token, for a request to route `template`. A session may
        do anything its account may; an API token what its scopes allow, and its writes are
        counted against its limits."""
        if not rules.is_api_token(bearer):
            return await self.accounts.authenticate(bearer)
        token, account = await self._authenticate(bearer)
        rules.check_scope(token.scopes, method, template)
        if method.upper() not in rules.READ_METHODS:
            await self.accounts.limits.check(LimitName.TOKEN_WRITES, token.id)
            await self.accounts.limits.check(LimitName.TOKEN_WRITES_ACCOUNT, account.id)
        return Caller(account, token.id)

    async def _authenticate(self, bearer: str) -> tuple[StoredToken, Account]:
        async with self.accounts.db.read() as conn:
            found = await TokenStore(conn).by_hash(hash_token(bearer))
        if found is None:
            raise Unauthenticated("invalid_token", "This token is not valid (revoked?)")
        token, account = found
        # The account's state is read with the token: a suspension stops it at once.
        check_usable(account)
        now, policy = self.accounts.clock(), self.accounts.sessions
        # Tokens do not expire by the session's idle or lifetime rules: a bot may run for
        # months; its last use is written all the same, throttled as a session's is.
        if session_rules.needs_touch(
            policy, SessionTimes(token.created_at, token.last_used_at, False), now
        ):
            async with self.accounts.db.write() as conn:
                await SessionStore(conn).touch(token.id, now, unless_after=now - policy.touch_every)
        return token, account


def scope_values(scopes: frozenset[Scope]) -> list[str]:
    return sorted(s.value for s in scopes)
