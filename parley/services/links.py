"""Link safety use cases: link rules (stored, audited, the same on every node), link checks that
follow shortener chains, the guard on user content, and the links behind the `/l/{id}` redirector.

Every node checks links against an in-memory `RuleSet` (a check costs microseconds whatever the
number of rules). Nodes stay in step three ways: a node applies its own change at once; it
announces the change on the `links` channel; and each sweep replays from the audit log every rule
change of the last few seconds, reading the rules' current rows, so a lost message (or a change
made by the CLI with no shared bus) takes effect within one sweep. A rule id is never reused and
goes absent → present → removed, never back, so applying these in any order converges.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Final

from parley.bus.base import Bus
from parley.config import Settings
from parley.core import moderation as policy
from parley.core.errors import Invalid, NotFound
from parley.core.links.canonical import (
    InvalidURL,
    canonical_host,
    canonicalize,
    split_canonical,
)
from parley.core.links.caution import CAUTIONS, caution
from parley.core.links.checks import (
    ChainError,
    FoundLink,
    Judgement,
    LinkCheck,
    MintedLink,
    StoredRule,
)
from parley.core.links.finder import find_urls
from parley.core.links.render import TextPart, link_href, link_id, split, web_links
from parley.core.links.rules import Decision, LinkRule, MatchKind, RuleSet, rule_key
from parley.core.links.target import redirect_target
from parley.core.text import bounded_text
from parley.services.accounts import Caller
from parley.services.common import new_id, utcnow
from parley.services.redirects import ChainBroken, RedirectFollower
from parley.store.db import Database
from parley.store.links import LinkRuleStore, LinkStore
from parley.store.moderation import AuditLog

log = logging.getLogger(__name__)

# Node-wide channel: "this link rule was added / removed".
LINKS_CHANNEL: Final = "links"
# How far back each sweep replays rule changes from the audit log. Longer than any write
# transaction: on PostgreSQL an entry with a lower id may commit after one with a higher id.
REPLAY_SECONDS: Final = 10.0
PATTERN_MAX: Final = 2048
URL_MAX: Final = 4096
# Ids of removed rules, so that a late "added" message cannot bring one back; bounded, since a
# late message older than this many removals is healed by the sweep anyway.
_TOMBSTONES: Final = 100_000
_BATCH: Final = 500

# Redirector ids known to have their row, so rendering text writes nothing after the first time.
_MINTED_KEPT: Final = 100_000

# What the codes in a check's `reason` mean when no rule is behind a warning. Anyone may ask for
# a check, so no code tells one network failure from another (refused, reset, timeout, DNS, TLS
# and names that resolve inside are all `unreachable`, answered no sooner than the chain's time
# limit): the checker is no port scanner.
CHAIN_ERRORS: Final = {
    "too_many_hops": "The link redirects too many times to check where it ends.",
    "unsafe_address": "The link redirects to an address that may not be contacted.",
    "unsupported_scheme": "The link redirects to something that is not a web page.",
    "unreachable": "The link's redirects could not be followed.",
    "bad_redirect": "The link redirects to something that is not a valid address.",
    "busy": "Too many links are being checked right now; this one could not be.",
}
# Every reason a warning page may give when no rule is behind it.
WARNING_REASONS: Final = {**CHAIN_ERRORS, **CAUTIONS}


class LinkService:
    def __init__(
        self, db: Database, bus: Bus, settings: Settings, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.db = db
        self.clock = clock
        self.bus = bus
        self.settings = settings
        self.rules = RuleSet()
        self.follower = RedirectFollower(
            timeout=settings.link_timeout_seconds,
            allow_private=settings.link_allow_private,
            max_concurrent=settings.link_fetch_concurrency,
            slot_wait=settings.link_fetch_wait_seconds,
        )
        self.shorteners = frozenset(_shortener_hosts(settings.link_shorteners))
        self._removed: OrderedDict[str, None] = OrderedDict()
        self._minted: OrderedDict[str, None] = OrderedDict()
        # (monotonic time, newest audit id seen then); the oldest one kept is where replays start.
        self._marks: deque[tuple[float, int]] = deque()
        self._listener: asyncio.Task[None] | None = None

    # --- keeping every node's rule set in step ----------------------------------------------

    async def start(self) -> None:
        """Listen for changes, then load every rule (changes heard meanwhile apply after)."""
        ready = asyncio.Event()
        self._listener = asyncio.create_task(self._listen(ready), name="link-rules")
        await ready.wait()
        async with self.db.read() as conn:
            store = LinkRuleStore(conn)
            self._marks.append((time.monotonic(), await store.last_change()))
            async for rule in store.every():
                self._present(rule)

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self.follower.close()

    async def _listen(self, ready: asyncio.Event) -> None:
        while True:
            try:
                async with self.bus.subscribe(LINKS_CHANNEL) as changes:
                    ready.set()
                    async for message in changes:
                        try:
                            self._hear(message)
                        except (ValueError, KeyError, TypeError):
                            log.exception("ignoring a malformed link rule message")
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("link rule changes interrupted; subscribing again")
                ready.set()
                await asyncio.sleep(1)

    def _hear(self, message: str) -> None:
        change = json.loads(message)
        if change.get("type") == "added":
            self._present(_rule(change["rule"]))
        elif change.get("type") == "removed":
            self._gone(str(change["id"]))

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
        async with self.db.read() as conn:
            store = LinkRuleStore(conn)
            # The newest entry of any kind moves the window on, so the range scanned stays the
            # last few seconds of the audit log even when no rule changes for days.
            newest = await store.last_change()
            changes = await store.changes_since(self._marks[0][1])
            named = list(dict.fromkeys(rule_id for _, rule_id in changes))
            found: dict[str, LinkRule] = {}
            for start in range(0, len(named), _BATCH):
                some = await store.some(named[start : start + _BATCH])
                found.update((stored.rule.id, stored.rule) for stored in some)
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
        actor: Caller | None,
        match: str,
        pattern: str,
        verdict: str,
        rule: str,
        reason: str,
    ) -> StoredRule:
        """Add a link rule. `actor` None: the operator, from the CLI."""
        if actor is not None:
            policy.require_moderator(actor.account)
        decided = _new_rule(match, pattern, verdict, rule, reason)
        key = rule_key(decided.match, decided.pattern)
        now = utcnow()
        actor_id = actor.account.id if actor else None
        async with self.db.write() as conn:
            await LinkRuleStore(conn).add(
                decided, canonical=key, created_at=now, created_by=actor_id
            )
            await AuditLog(conn).append(
                at=now,
                actor_id=actor_id,
                action="link_rule_add",
                target_type="link_rule",
                target_id=decided.id,
                rule=decided.rule,
                reason=decided.reason,
                after=_rule_fields(decided),
            )
        self._present(decided)
        await self.bus.publish(
            LINKS_CHANNEL, json.dumps({"type": "added", "rule": _rule_fields(decided)})
        )
        return StoredRule(decided, created_at=now, created_by=actor_id)

    async def remove_rule(
        self, actor: Caller | None, rule_id: str, reason: str | None = None
    ) -> StoredRule:
        if actor is not None:
            policy.require_moderator(actor.account)
        reason = policy.clean_reason(reason) if reason else None
        actor_id = actor.account.id if actor else None
        async with self.db.write() as conn:
            store = LinkRuleStore(conn)
            stored = await store.get(rule_id)
            if stored is None or not await store.remove(rule_id):
                raise NotFound("link_rule_not_found", "No such link rule")
            await AuditLog(conn).append(
                at=utcnow(),
                actor_id=actor_id,
                action="link_rule_remove",
                target_type="link_rule",
                target_id=rule_id,
                rule=stored.rule.rule,
                reason=reason,
                before=_rule_fields(stored.rule),
            )
        self._gone(rule_id)
        await self.bus.publish(LINKS_CHANNEL, json.dumps({"type": "removed", "id": rule_id}))
        return stored

    async def list_rules(
        self, actor: Caller | None, *, limit: int, offset: int
    ) -> list[StoredRule]:
        if actor is not None:
            policy.require_moderator(actor.account)
        async with self.db.read() as conn:
            return await LinkRuleStore(conn).list(limit=limit, offset=offset)

    # --- checks -----------------------------------------------------------------------------

    async def check(self, url: str) -> LinkCheck:
        """The verdict for one URL. The worst verdict of the URL and of every hop of a
        shortener's chain wins; a chain that cannot be followed is a warning, never a pass."""
        _refuse_overlong_url(url)
        try:
            canonical = canonicalize(url)
        except InvalidURL as error:
            raise Invalid("invalid_url", f"Not an http(s) URL: {error}") from None
        return await self._check(url, canonical)

    async def check_text(self, text: str) -> list[FoundLink]:
        """Every link found in `text`, each with its span and its check."""
        found = find_urls(text)
        checks = await asyncio.gather(*(self._check(f.text, f.canonical_url) for f in found))
        return [
            FoundLink(f.start, f.end, f.text, f.web, check)
            for f, check in zip(found, checks, strict=True)
        ]

    async def guard(self, text: str) -> None:
        """Refuse user content with a blocked link in it, naming the link and the rule."""
        if not text:
            return
        for found in await self.check_text(text):
            check = found.check
            if check.verdict is Decision.BLOCK:
                raise Invalid(
                    "link_blocked",
                    f"The link {found.text} is blocked under the rule "
                    f"“{check.rule}”: {check.reason}",
                    rule=check.rule,
                    rule_id=check.rule_id,
                    url=found.text,
                    reason=check.reason,
                )

    async def _check(self, url: str, canonical: str) -> LinkCheck:
        first = self._judge(url, canonical)
        hops: list[Judgement] = []
        chain_error: ChainError | None = None
        if first.verdict is not Decision.BLOCK and self._is_shortener(canonical):
            try:
                start = redirect_target(url)
            except InvalidURL:
                start = canonical
            chain_error = await self._follow(start, hops)
        judged = [first, *hops]
        if chain_error is not None:
            judged.append(Judgement.warning(url, canonical, chain_error.reason))
        worst = max(judged, key=lambda j: j.verdict.severity)  # first of equals
        return LinkCheck(
            url=url,
            verdict=worst.verdict,
            canonical_url=canonical,
            rule_id=worst.rule_id,
            rule=worst.rule,
            reason=worst.reason,
            hops=tuple(hops),
            chain_error=chain_error,
        )

    def _judge(self, url: str, canonical: str | None) -> Judgement:
        if canonical is None:
            return Judgement.warning(url, None, "unsupported_scheme")
        verdict = self.rules.check(canonical)
        rule = verdict.rule
        if rule is None:
            return Judgement(url, canonical, verdict.decision)
        return Judgement(url, canonical, verdict.decision, rule.id, rule.rule, rule.reason)

    def _is_shortener(self, canonical: str) -> bool:
        host = canonical.partition("://")[2].partition("/")[0].partition("?")[0]
        return any(host == s or host.endswith("." + s) for s in self.shorteners)

    async def _follow(self, url: str, hops: list[Judgement]) -> ChainError | None:
        """Follow a chain from `url`, judging every hop; the reason it broke off, if it did."""
        current = url
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.link_timeout_seconds
        try:
            async with asyncio.timeout_at(deadline):
                while True:
                    following = await self.follower.next_hop(current)
                    if following is None:
                        return None
                    if len(hops) >= self.settings.link_max_hops:
                        raise ChainBroken("too_many_hops", f"more than {len(hops)} redirects")
                    hop = self._judge(following, _canonical_or_none(following))
                    hops.append(hop)
                    if hop.verdict is Decision.BLOCK:
                        return None  # nothing further can make it worse
                    if hop.canonical_url is None:
                        raise ChainBroken("unsupported_scheme", f"not http(s): {following[:200]}")
                    current = following
        except TimeoutError:
            broken = ChainBroken("unreachable", f"over {self.settings.link_timeout_seconds} s")
        except ChainBroken as error:
            broken = error
        log.debug("link chain from %s broke at %s: %s", url, current, broken)
        if broken.reason == "unreachable":
            # A refusal answered at once and a silent port answered at the limit must look alike.
            await asyncio.sleep(max(0.0, deadline - loop.time()))
        reason = broken.reason if broken.reason in CHAIN_ERRORS else "unreachable"
        return ChainError(reason, current, CHAIN_ERRORS[reason])

    # --- links shown through the redirector -------------------------------------------------

    async def render(self, items: Sequence[tuple[str, str]]) -> list[tuple[TextPart, ...]]:
        """Each (text, account that wrote it) as parts, its links through the redirector.

        Ids are derived from the link and its writer, so this only writes when a link has no
        row yet: at the first read after the content was written (the write's own response
        renders it, so that is at write time), or at the first read of content stored before
        links were minted. Known ids are remembered, so steady reads touch no table.
        """
        rendered: list[tuple[TextPart, ...]] = []
        wanted: dict[str, tuple[str, str]] = {}
        for text, minter in items:
            links = [(w, link_id(minter, w.url)) for w in web_links(text)] if text else []
            for w, made in links:
                wanted.setdefault(made, (w.url, minter))
            rendered.append(split(text, [(w, link_href(made)) for w, made in links]))
        await self._mint(wanted)
        return rendered

    async def _mint(self, wanted: dict[str, tuple[str, str]]) -> None:
        unknown = [made for made in wanted if made not in self._minted]
        if not unknown:
            return
        async with self.db.read() as conn:
            present = await LinkStore(conn).existing(unknown)
        missing = [made for made in unknown if made not in present]
        if missing:
            async with self.db.write() as conn:
                await LinkStore(conn).add_many(
                    [(made, *wanted[made]) for made in missing], self.clock()
                )
        for made in unknown:
            self._minted[made] = None
        while len(self._minted) > _MINTED_KEPT:
            self._minted.popitem(last=False)

    async def add_link(self, url: str, minter: str) -> MintedLink:
        """Register a link for a client to show as `/l/{id}`."""
        _target(url)
        made = link_id(minter, url)
        await self._mint({made: (url, minter)})
        return MintedLink(made, url, link_href(made))

    async def open_link(self, link_id: str) -> tuple[str, LinkCheck]:
        """Where `/l/{id}` sends a browser, and that place's check made now (at click time).

        Beyond the rules: a look-alike (internationalized) host, or a link shared by an account
        younger than `link_new_account_days`, gets the warning page, saying why."""
        async with self.db.read() as conn:
            stored = await LinkStore(conn).get(link_id)
        if stored is None:
            raise NotFound("link_not_found", "No such link")
        target = _target(stored.url)
        canonical = canonicalize(target)
        check = await self._check(target, canonical)
        if check.verdict is Decision.ALLOW:
            why = caution(
                split_canonical(canonical).host,
                minter_since=stored.minter_since,
                now=self.clock(),
                new_account_days=self.settings.link_new_account_days,
            )
            if why is not None:
                check = check.warned(why)
        return target, check


def _refuse_overlong_url(url: str) -> None:
    bounded_text(url, least=0, most=URL_MAX, strip=False, code="invalid_url", what="A URL")


def _target(url: str) -> str:
    _refuse_overlong_url(url)
    try:
        return redirect_target(url)
    except InvalidURL as error:
        raise Invalid("invalid_url", f"Not a link a browser can be sent to: {error}") from None


def _canonical_or_none(url: str) -> str | None:
    try:
        return canonicalize(url)
    except InvalidURL:
        return None


def _shortener_hosts(hosts: Sequence[str]) -> list[str]:
    out = []
    for host in hosts:
        try:
            out.append(canonical_host(host.strip().lower()))
        except (InvalidURL, ValueError):
            log.warning("ignoring shortener %r: not a host name", host)
    return [h for h in out if h]


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


def _rule(fields: Mapping[str, object]) -> LinkRule:
    """A rule as a bus message carries it."""
    return LinkRule(
        id=str(fields["id"]),
        match=MatchKind(str(fields["match"])),
        pattern=str(fields["pattern"]),
        verdict=Decision(str(fields["verdict"])),
        rule=str(fields["rule"]),
        reason=str(fields["reason"]),
    )


def _rule_fields(rule: LinkRule) -> dict[str, str]:
    return {
        "id": rule.id,
        "match": rule.match.value,
        "pattern": rule.pattern,
        "verdict": rule.verdict.value,
        "rule": rule.rule,
        "reason": rule.reason,
    }
