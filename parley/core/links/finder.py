"""Find the URLs in user text (posts, bios, titles), the way a reader or a client would see them.

A link rule is useless if the link slips past the finder, so the finder errs towards finding: URLs
with a scheme, `www.` URLs, and bare domains (`evil.example.com/x`) whose last label is a real
public suffix. Spammers write full-width text (`ｅｘａｍｐｌｅ．ｃｏｍ`) and ideographic dots
(`example。com`) that clients still turn into links, so the text is NFKC-normalized before matching,
keeping a map back to the original offsets. Trailing punctuation is not part of a URL, unless it
closes a parenthesis the URL opened (`/wiki/Foo_(bar)`). Emails are not URLs.

Scheme-relative URLs (`//evil.example/x`) and other schemes with a host (`ftp://`, `wss://`) are
found too, and checked like http(s) (a client or a reader may still open them), but they are not
web links: `web` is False, and nothing renders them as links.

The public suffix list is the one bundled with tldextract; it is never fetched (core does no I/O).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import Final

import tldextract

from parley.core.links.canonical import CanonicalURL, InvalidURL, canonical_parts

__all__ = ["FoundURL", "find_urls"]


@dataclass(frozen=True, slots=True)
class FoundURL:
    start: int  # offsets into the text as given, so a client can link exactly that span
    end: int
    text: str  # text[start:end]
    canonical_url: str  # for a non-web URL, the http URL with its host and path, to check
    web: bool = True  # http(s), or a bare or www. host: what may be shown as a link


# Characters that never occur in a URL as people write them in prose: whitespace, the delimiters
# RFC 3986 calls unsafe, and CJK punctuation (which ends a URL in text without spaces).
_URL_CHAR: Final = r"[^\s<>\"`{}|\\^\u3000-\u303f]"
# Scripts written without spaces (CJK, kana, hangul, Thai): a bare domain in such prose touches
# the words around it ("看看example.com的文章"), so these characters end a bare domain instead of
# joining it. A bare IDN in one of these scripts is missed; with a scheme or www. it is found.
_SPACELESS: Final = (
    "\u0e00-\u0e7f\u2e80-\u2fff\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff"
)
_NAME: Final = rf"[^\W_{_SPACELESS}]"  # a letter or digit that can be part of a bare domain
_LABEL: Final = rf"{_NAME}(?:(?:{_NAME}|[-_]){{0,61}}{_NAME})?"
_TLD: Final = rf"(?:[^\W\d_{_SPACELESS}]{{2,63}}|xn--[a-z0-9-]{{1,59}})"
_FINDER: Final = re.compile(
    rf"""
    (?P<scheme>(?<![a-z0-9+.-])https?://{_URL_CHAR}+)
    # Any other scheme with an authority, or none at all ("//host"): checked, never a link.
    | (?P<other>(?<![a-z0-9+.-])(?:[a-z][a-z0-9+.-]*:)?[/\\]{{2}}{_URL_CHAR}+)
    | (?P<www>(?<!{_NAME}|[.@/_-])www\.{_NAME}{_URL_CHAR}*)
    # A bare domain: not inside a word, an email (@) or a path (/); the TLD not followed by more
    # of a name or by "@" (then it was the local part of an email).
    | (?P<bare>(?<!{_NAME}|[.@/%+_-])(?:{_LABEL}\.)+{_TLD}(?!{_NAME}|[@_-])
        (?::\d{{1,5}})?(?:[/?#]{_URL_CHAR}*)?)
    """,
    re.IGNORECASE | re.VERBOSE,
)
_SCHEME: Final = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
# Never the last character of a URL found in prose; "*_~" are Markdown emphasis around a link.
_TRAILING: Final = frozenset(".,:;!?'*_~")
_CLOSERS: Final = {")": "(", "]": "[", "}": "{"}
# Dot look-alikes NFKC leaves alone but UTS #46 (and so browsers) read as ".".
_DOTS: Final = frozenset("\u3002\uff61")


def find_urls(text: str) -> list[FoundURL]:
    """Every URL in `text`, in order, with its span and canonical form."""
    normalized, origin = _normalize(text)
    found: list[FoundURL] = []
    for match in _FINDER.finditer(normalized):
        candidate = _trim(match.group())
        kind = match.lastgroup
        start = match.start()
        end = start + len(candidate)
        original = text[origin[start] : origin[end - 1] + 1]
        web = kind != "other"
        if web:
            canonical = _canonical(original, candidate)
        else:
            canonical = _canonical(*(_as_http(t) for t in (original, candidate)))
        if canonical is None:
            continue
        if kind == "bare" and not _has_public_suffix(canonical.host):
            continue
        found.append(
            FoundURL(origin[start], origin[end - 1] + 1, original, str(canonical), web=web)
        )
    return found


def _as_http(url: str) -> str:
    """The URL with http for its scheme: its host and path, to match rules on."""
    return "http:" + _SCHEME.sub("", url, count=1)


def _normalize(text: str) -> tuple[str, list[int]]:
    """NFKC per character (full-width to ASCII), with each output character's original offset."""
    if text.isascii():
        return text, list(range(len(text)))
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        if char.isascii():
            mapped = char
        elif char in _DOTS:
            mapped = "."
        else:
            mapped = unicodedata.normalize("NFKC", char)
        chars.append(mapped)
        origin.extend([index] * len(mapped))
    return "".join(chars), origin


def _trim(candidate: str) -> str:
    """Drop trailing punctuation, and closing brackets the URL did not open."""
    while candidate:
        last = candidate[-1]
        unopened = last in _CLOSERS and candidate.count(_CLOSERS[last]) < candidate.count(last)
        if last not in _TRAILING and not unopened:
            break
        candidate = candidate[:-1]
    return candidate


def _canonical(original: str, normalized: str) -> CanonicalURL | None:
    # The text as written is what a browser opens; the normalized text is what we matched, and is
    # the fallback when only normalization makes it a URL (a full-width "ｈｔｔｐ：／／").
    for candidate in (original, normalized):
        try:
            return canonical_parts(candidate)
        except InvalidURL:
            continue
    return None


@cache
def _extractor() -> tldextract.TLDExtract:
    # suffix_list_urls=() and no cache dir: the bundled snapshot only, no network, no disk writes.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def _has_public_suffix(host: str) -> bool:
    parts = _extractor()(host)
    return bool(parts.suffix and parts.domain)
