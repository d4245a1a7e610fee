"""Link rules: stored, audited, and the same on every node.

Every node checks links against an in-memory `RuleSet` (a check costs microseconds whatever the
number of rules). Nodes stay in step three ways: a node applies its own change at once; it
announces the change on the `links` channel; and each sweep replays from the audit log every rule
change of the last few seconds, reading the rules' current rows, so a lost message (or a change
made by the CLI with no shared bus) takes effect within one sweep. A rule id is never reused and
goes absent → present → removed, never back, so applying these in any order converges.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, deque
from typing import Final

from sqlalchemy.ext.asyncio import AsyncConnection

from parley.bus import messages
from parley.bus.base import Bus
from parley.bus.messages import LINKS_CHANNEL, LinkRuleAdded, LinkRuleRemoved
from parley.core import moderation as policy
from parley.core.actors import Actor
from parley.core.errors import Invalid, NotFound
from parley.core.links.checks import StoredRule
from parley.core.links.rules import Decision, LinkRule, MatchKind, RuleSet, rule_key
from parley.core.moderation import AuditAction, AuditTarget
from parley.core.text import bounded_text
from parley.core.wire import to_data
from parley.services.background import cancel_and_wait
from parley.services.common import Clock, new_id
from parley.store.db import Database
from parley.store.links import LinkRuleStore
from parley.store.moderation import AuditLog

log = logging.getLogger(__name__)

# How far back each sweep replays rule changes from the audit log. Longer than any write
# transaction: on PostgreSQL an entry with a lower id may commit after one with a higher id.
REPLAY_SECONDS: Final = 10.0
PATTERN_MAX: Final = 2048
# Ids of removed rules, so that a late "added" message cannot bring one back; bounded, since a
# late message older than this many removals is healed by the sweep anyway.
_TOMBSTONES: Final = 100_000
_BATCH: Final = 500


class LinkRules:
    def __init__(self, db: Database, bus: Bus, *, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self.bus = bus
        # What every link check on this node reads (LinkChecks).
        self.rules = RuleSet()
        self._removed: OrderedDict[str, None] = OrderedDict()
        # (monotonic time, newest audit id seen then); the oldest one kept is where replays start.
        self._marks: deque[tuple[float, int]] = deque()
        self._listener: asyncio.Task[None] | None = None

    # --- keeping every node's rule set in step ----------------------------------------------

    async def start(self) -> None:
        """Listen for changes, then load every rule (changes heard meanwhile apply after)."""
        ready = asyncio.Event()
        self._listener = asyncio.create_task(
            messages.follow(self.bus, LINKS_CHANNEL, ready, self._hear, what="link rule changes"),
            name="link-rules",
        )
        await ready.wait()
        async with self.db.read(streamed=True) as conn:
            store = LinkRuleStore(conn)
            self._marks.append((time.monotonic(), await store.last_change()))
            async for rule in store.every():
                self._present(rule)

    async def stop(self) -> None:
        await cancel_and_wait(self._listener)

    async def _hear(self, change: messages.Message | None) -> None:
        match change:
            case LinkRuleAdded(rule):
                self._present(rule)
            case LinkRuleRemoved(rule_id):
                self._gone(rule_id)

    def _present(self, rule: LinkRule) -> None:
        if rule.id not in self._removed and self.rules.get(rule.id) != rule:
            self.rules.add(rule)

    def _gone(self, rule_id: str) -> None:
        self._removed[rule_id] = None
        if len(self._removed) > _TOMBSTONES:
            self._removed.popitem(last=False)
        self.rules.remove(rule_id)

    async def reconcile(self) -> None:
        """The sweep's part: replay the last few seconds of rule changes from the database.

        Cheap: a primary-key range scan of the audit log's newest entries, then the rows of the
        rules they name. A rule whose entry is there but whose row is not was removed (an entry
        and its row are written in one transaction).
        """
        if not self._marks:
            return  # not started (the CLI's node)
        now = time.monotonic()
        while len(self._marks) > 1 and self._marks[1][0] <= now - REPLAY_SECONDS:
            self._marks.popleft()
        since = self._marks[0][1]

        async def read(conn: AsyncConnection) -> tuple[int, list[str], dict[str, LinkRule]]:
            store = LinkRuleStore(conn)
            # The newest entry of any kind moves the window on, so the range scanned stays the
            # last few seconds of the audit log even when no rule changes for days.
            newest = await store.last_change()
            changes = await store.changes_since(since)
            named = list(dict.fromkeys(rule_id for _, rule_id in changes))
            found: dict[str, LinkRule] = {}
            for start in range(0, len(named), _BATCH):
                some = await store.some(named[start : start + _BATCH])
                found.update((stored.rule.id, stored.rule) for stored in some)
            return newest, named, found

        newest, named, found = await self.db.read_whole(read)
        for rule_id in named:
            rule = found.get(rule_id)
            if rule is None:
                self._gone(rule_id)
            else:
                self._present(rule)
        if newest > self._marks[-1][1]:
            self._marks.append((now, newest))

    # --- rules ------------------------------------------------------------------------------

    async def add_rule(
        self,
        actor: Actor,
        match: str,
        pattern: str,
        verdict: str,
        rule: str,
        reason: str,
    ) -> StoredRule:
        """Add a link rule."""
        policy.require_acting_moderator(actor)
        decided = _new_rule(match, pattern, verdict, rule, reason)
        key = rule_key(decided.match, decided.pattern)
        now = self.clock()
        actor_id = actor.account_id
        async with self.db.write() as conn:
            await LinkRuleStore(conn).add(
                decided, canonical=key, created_at=now, created_by=actor_id
            )
            await AuditLog(conn).append(
                at=now,
                actor_id=actor_id,
                action=AuditAction.LINK_RULE_ADD,
                target_type=AuditTarget.LINK_RULE,
                target_id=decided.id,
                rule=decided.rule,
                reason=decided.reason,
                after=to_data(decided),
            )
        self._present(decided)
        await messages.publish(self.bus, LinkRuleAdded(decided))
        return StoredRule(decided, created_at=now, created_by=actor_id)

    async def remove_rule(
        self, actor: Actor, rule_id: str, reason: str | None = None
    ) -> StoredRule:
        policy.require_acting_moderator(actor)
        reason = policy.clean_reason(reason) if reason else None
        actor_id = actor.account_id
        async with self.db.write() as conn:
            store = LinkRuleStore(conn)
            stored = await store.get(rule_id)
            if stored is None or not await store.remove(rule_id):
                raise NotFound("link_rule_not_found", "No such link rule")
            await AuditLog(conn).append(
                at=self.clock(),
                actor_id=actor_id,
                action=AuditAction.LINK_RULE_REMOVE,
                target_type=AuditTarget.LINK_RULE,
                target_id=rule_id,
                rule=stored.rule.rule,
                reason=reason,
                before=to_data(stored.rule),
            )
        self._gone(rule_id)
        await messages.publish(self.bus, LinkRuleRemoved(rule_id))
        return stored

    async def list_rules(self, actor: Actor, *, limit: int, offset: int) -> list[StoredRule]:
        policy.require_moderator(actor)
        async with self.db.read() as conn:
            return await LinkRuleStore(conn).list(limit=limit, offset=offset)


def _new_rule(match: str, pattern: str, verdict: str, rule: str, reason: str) -> LinkRule:
    try:
        kind = MatchKind(match)
    except ValueError:
        raise Invalid("invalid_match", "A rule matches a host, a prefix or a url") from None
    if verdict not in (Decision.WARN, Decision.BLOCK):
        raise Invalid("invalid_verdict", "A link rule's verdict is warn or block")
    pattern = bounded_text(pattern, most=PATTERN_MAX, code="invalid_pattern", what="A pattern")
    try:
        rule_key(kind, pattern)
    except ValueError as error:
        raise Invalid("invalid_pattern", str(error)) from None
    return LinkRule(
        id=new_id(),
        match=kind,
        pattern=pattern,
        verdict=Decision(verdict),
        rule=policy.clean_rule(rule),
        reason=policy.clean_reason(reason),
    )
