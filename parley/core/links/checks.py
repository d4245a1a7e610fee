"""What checking a link finds, as records: the verdict on a URL and on each hop of its redirect
chain, why a chain could not be followed, and a stored rule with who made it when."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

from parley.core.links.rules import Decision, LinkRule


@dataclass(frozen=True)
class Judgement:
    """One URL against the rules: the URL itself, or one hop of a shortener's chain. No rule
    behind a warning: `reason` is a code saying why (`unsupported_scheme`, `timeout`...)."""

    url: str
    canonical_url: str | None
    verdict: Decision
    rule_id: str | None = None
    rule: str | None = None
    reason: str | None = None

    @classmethod
    def warning(cls, url: str, canonical_url: str | None, reason: str) -> Judgement:
        return cls(url, canonical_url, Decision.WARN, reason=reason)


@dataclass(frozen=True)
class ChainError:
    """Why a redirect chain was not followed to its end, and where it stopped."""

    reason: str
    url: str
    detail: str


@dataclass(frozen=True)
class LinkCheck:
    """The verdict on a URL: the worst of its own and of every hop's, a chain that could not be
    followed counting as a warning."""

    url: str
    verdict: Decision
    canonical_url: str
    rule_id: str | None
    rule: str | None
    reason: str | None
    hops: tuple[Judgement, ...] = ()
    chain_error: ChainError | None = None

    def warned(self, reason: str) -> LinkCheck:
        """This check turned into a warning with no rule behind it, for `reason`."""
        return dataclasses.replace(
            self, verdict=Decision.WARN, rule_id=None, rule=None, reason=reason
        )


@dataclass(frozen=True)
class FoundLink:
    """A link found in a text, where it is, and its check."""

    start: int
    end: int
    text: str
    web: bool
    check: LinkCheck


@dataclass(frozen=True)
class StoredRule:
    rule: LinkRule
    created_at: datetime
    created_by: str | None


@dataclass(frozen=True)
class MintedLink:
    """A link behind the redirector: `href` is `/l/{id}`."""

    id: str
    url: str
    href: str
