"""Link checks: the verdict for a URL, or for every link in a text, under the link rules, following
shortener chains hop by hop (services/redirects.py fetches each hop); and the guard that refuses
user content with a blocked link in it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Final

import httpx

from parley.config import Settings
from parley.core.errors import Invalid
from parley.core.links.canonical import InvalidURL, canonical_host, canonicalize
from parley.core.links.caution import CAUTIONS
from parley.core.links.checks import ChainError, FoundLink, Judgement, LinkCheck
from parley.core.links.finder import find_urls
from parley.core.links.rules import Decision, RuleSet
from parley.core.links.target import redirect_target
from parley.core.text import bounded_text
from parley.services.redirects import ChainBroken, RedirectFollower

log = logging.getLogger(__name__)

URL_MAX: Final = 4096

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


class LinkBlocked(Invalid):
    """User content refused for a blocked link in it: the link as written, and its check."""

    def __init__(self, link: str, check: LinkCheck) -> None:
        super().__init__(
            "link_blocked",
            f"The link {link} is blocked under the rule “{check.rule}”: {check.reason}",
        )
        self.link = link
        self.check = check


class LinkChecks:
    def __init__(
        self,
        rules: RuleSet,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        # The node's rule set, kept in step by LinkRules.
        self.rules = rules
        self.settings = settings
        self.follower = RedirectFollower(
            timeout=settings.link_timeout_seconds,
            allow_private=settings.link_allow_private,
            max_concurrent=settings.link_fetch_concurrency,
            slot_wait=settings.link_fetch_wait_seconds,
            transport=transport,  # None: the real network
        )
        self.shorteners = frozenset(_shortener_hosts(settings.link_shorteners))

    async def close(self) -> None:
        await self.follower.close()

    async def check(self, url: str) -> LinkCheck:
        """The verdict for one URL. The worst verdict of the URL and of every hop of a
        shortener's chain wins; a chain that cannot be followed is a warning, never a pass."""
        refuse_overlong_url(url)
        try:
            canonical = canonicalize(url)
        except InvalidURL as error:
            raise Invalid("invalid_url", f"Not an http(s) URL: {error}") from None
        return await self.check_canonical(url, canonical)

    async def check_text(self, text: str) -> list[FoundLink]:
        """Every link found in `text`, each with its span and its check."""
        found = find_urls(text)
        checks = await asyncio.gather(
            *(self.check_canonical(f.text, f.canonical_url) for f in found)
        )
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
                raise LinkBlocked(found.text, check)

    async def check_canonical(self, url: str, canonical: str) -> LinkCheck:
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


def refuse_overlong_url(url: str) -> None:
    bounded_text(url, least=0, most=URL_MAX, strip=False, code="invalid_url", what="A URL")


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
