"""Link rules and the index that checks a canonical URL against a million of them in microseconds.

A check never scans the rules. It walks what the URL itself offers: the host and each of its parent
domains (a.b.example.com, b.example.com, example.com, com), and under each the path's whole-segment
prefixes (/, /a, /a/b), and the exact URL; each step is one dict lookup. So a check costs
O(labels × segments), whatever the number of rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from parley.core.links.canonical import (
    CanonicalURL,
    InvalidURL,
    canonical_parts,
    split_canonical,
)

__all__ = ["Decision", "LinkRule", "MatchKind", "RuleSet", "Verdict", "rule_key"]


class MatchKind(StrEnum):
    HOST = "host"  # the host and all its subdomains, any path, any port
    PREFIX = "prefix"  # host (and subdomains) + a path prefix of whole segments
    URL = "url"  # exactly this canonical URL, query included; http and https alike


class Decision(StrEnum):
    ALLOW = "allow"
    WARN = "warn"
    BLOCK = "block"

    @property
    def severity(self) -> int:
        """Where several verdicts meet (rules on one URL, the hops of a redirect chain), the
        more severe wins: block over warn over allow."""
        return _SEVERITY[self]


_SEVERITY: Final = {Decision.ALLOW: 0, Decision.WARN: 1, Decision.BLOCK: 2}


@dataclass(frozen=True, slots=True)
class LinkRule:
    """One rule as API.md shapes it. `pattern` is kept as the moderator wrote it."""

    id: str
    match: MatchKind
    pattern: str
    verdict: Decision
    rule: str  # the policy it enforces, shown to the user ("spam", "malware", ...)
    reason: str

    def __post_init__(self) -> None:
        if self.verdict is Decision.ALLOW:
            raise ValueError("a link rule warns or blocks; allow is the absence of a rule")


@dataclass(frozen=True, slots=True)
class Verdict:
    decision: Decision
    rule: LinkRule | None = None

    @property
    def rule_id(self) -> str | None:
        return None if self.rule is None else self.rule.id


ALLOW: Final = Verdict(Decision.ALLOW)


def rule_key(match: MatchKind, pattern: str) -> str:
    """The canonical key a pattern is indexed under; raises `ValueError` if it cannot be one.

    Patterns go through the same canonicalization as the URLs they are matched against, so
    `EVIL.Example.`, `http://evil.example:443/` and `ｅｖｉｌ.example` are one host rule.
    """
    try:
        parts = canonical_parts(pattern)
    except InvalidURL as error:
        raise ValueError(f"invalid {match} pattern {pattern!r}: {error}") from None
    if match is MatchKind.HOST:
        if parts.path != "/" or parts.query is not None:
            raise ValueError(f"a host pattern has no path or query: {pattern!r} (use prefix)")
        return parts.host
    if match is MatchKind.PREFIX:
        if parts.query is not None:
            raise ValueError(f"a prefix pattern has no query: {pattern!r} (use url)")
        return parts.host + parts.path.rstrip("/")
    return _url_key(parts)


def _url_key(parts: CanonicalURL) -> str:
    # Without the scheme: the same host and path over http and https is the same content, and a
    # rule for one must not be dodged by the other.
    query = "" if parts.query is None else "?" + parts.query
    return parts.host + parts.path + query


def _more_severe(rule: LinkRule, than: LinkRule | None) -> bool:
    """Whether `rule` takes the place of `than`: only a strictly more severe rule does, so among
    equals the first one met stays."""
    return than is None or rule.verdict.severity > than.verdict.severity


class _Slot:
    """The rules that share one key, and the strongest of them (block first, then oldest)."""

    __slots__ = ("best", "rules")

    def __init__(self) -> None:
        self.rules: dict[str, LinkRule] = {}
        self.best: LinkRule | None = None

    def add(self, rule: LinkRule) -> None:
        self.rules[rule.id] = rule
        if _more_severe(rule, self.best):
            self.best = rule

    def remove(self, rule_id: str) -> None:
        del self.rules[rule_id]
        self.best = None
        for rule in self.rules.values():
            if _more_severe(rule, self.best):
                self.best = rule


class RuleSet:
    """All link rules, indexed for checks. Not thread-safe: one writer, or a copy per reader."""

    def __init__(self, rules: list[LinkRule] | None = None) -> None:
        self._by_id: dict[str, tuple[LinkRule, str]] = {}
        self._hosts: dict[str, _Slot] = {}
        # host → {path prefix without trailing slash ("" for the root) → rules}
        self._prefixes: dict[str, dict[str, _Slot]] = {}
        # host → the deepest prefix rule under it, in segments, so checks stop walking there.
        self._prefix_depth: dict[str, int] = {}
        self._urls: dict[str, _Slot] = {}
        for rule in rules or ():
            self.add(rule)

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, rule_id: object) -> bool:
        return rule_id in self._by_id

    def get(self, rule_id: str) -> LinkRule | None:
        entry = self._by_id.get(rule_id)
        return None if entry is None else entry[0]

    def add(self, rule: LinkRule) -> None:
        """Add a rule (replacing one with the same id); `ValueError` for a bad pattern."""
        key = rule_key(rule.match, rule.pattern)
        if rule.id in self._by_id:
            self.remove(rule.id)
        self._by_id[rule.id] = (rule, key)
        if rule.match is MatchKind.HOST:
            self._hosts.setdefault(key, _Slot()).add(rule)
        elif rule.match is MatchKind.PREFIX:
            host, path = _split_prefix_key(key)
            self._prefixes.setdefault(host, {}).setdefault(path, _Slot()).add(rule)
            depth = path.count("/")
            if depth > self._prefix_depth.get(host, -1):
                self._prefix_depth[host] = depth
        else:
            self._urls.setdefault(key, _Slot()).add(rule)

    def remove(self, rule_id: str) -> LinkRule | None:
        """Remove a rule by id; returns it, or None if there was none."""
        entry = self._by_id.pop(rule_id, None)
        if entry is None:
            return None
        rule, key = entry
        if rule.match is MatchKind.HOST:
            _remove_from(self._hosts, key, rule_id)
        elif rule.match is MatchKind.PREFIX:
            host, path = _split_prefix_key(key)
            paths = self._prefixes[host]
            _remove_from(paths, path, rule_id)
            if not paths:
                del self._prefixes[host]
                del self._prefix_depth[host]
            else:
                # Recomputing keeps depth exact; removals are rare next to checks.
                self._prefix_depth[host] = max(p.count("/") for p in paths)
        else:
            _remove_from(self._urls, key, rule_id)
        return rule

    def check(self, canonical_url: str) -> Verdict:
        """The verdict for a URL `canonicalize` produced.

        Block beats warn. Among equals the first met is named, in this order: the exact URL, then
        for the host and each parent domain in turn its path prefixes (longest first) and its host
        rule. That is the most specific rule in all but contrived cases.
        """
        parts = split_canonical(canonical_url)
        best: LinkRule | None = None

        def consider(slot: _Slot | None) -> None:
            nonlocal best
            if slot is not None and slot.best is not None and _more_severe(slot.best, best):
                best = slot.best

        consider(self._urls.get(_url_key(parts)))
        for host in _host_suffixes(parts.host):
            paths = self._prefixes.get(host)
            if paths is not None:
                for prefix in _segment_prefixes(parts.path, self._prefix_depth[host]):
                    consider(paths.get(prefix))
            consider(self._hosts.get(host))
        return ALLOW if best is None else Verdict(best.verdict, best)


def _split_prefix_key(key: str) -> tuple[str, str]:
    """Split a prefix key: "example.com/a/b" gives ("example.com", "/a/b"), a bare host ""."""
    slash = key.find("/")
    return (key, "") if slash == -1 else (key[:slash], key[slash:])


def _remove_from(index: dict[str, _Slot], key: str, rule_id: str) -> None:
    slot = index[key]
    slot.remove(rule_id)
    if not slot.rules:
        del index[key]


def _host_suffixes(host: str) -> list[str]:
    """The host, then each parent domain: a.b.example.com, b.example.com, example.com, com.

    An IP address has no parents (1.2.3.4 is not inside 2.3.4) and is no one's parent (a rule for
    192.168.1.1 is not about a name ending in .192.168.1.1, which browsers refuse anyway).
    """
    if host.startswith("[") or _is_ipv4(host):
        return [host]
    suffixes = [host]
    start = host.find(".")
    while start != -1:
        suffix = host[start + 1 :]
        if not _is_ipv4(suffix):
            suffixes.append(suffix)
        start = host.find(".", start + 1)
    return suffixes


def _is_ipv4(host: str) -> bool:
    parts = host.split(".")
    return len(parts) == 4 and all(p.isdigit() for p in parts)


def _segment_prefixes(path: str, max_depth: int) -> list[str]:
    """Longest first, whole segments only: "/a/b/c" gives "/a/b/c", "/a/b", "/a", "" (root).

    Keys carry no trailing slash, so "/name" and "/name/" are one prefix, and "/namesake" is never
    a prefix of "/name/...": a prefix ends where a segment ends.
    """
    segments = path.strip("/").split("/") if path != "/" else []
    depth = min(len(segments), max_depth)
    prefixes = []
    for n in range(depth, 0, -1):
        prefixes.append("/" + "/".join(segments[:n]))
    prefixes.append("")
    return prefixes
