"""User text as the server hands it to every reader: plain runs and links through the redirector.

The server, not the client, decides what is a link, so a rule added later reaches every reader,
signed in or not, and no client can turn `ftp://` or `//host` into a link of its own. Text goes
out as `parts`: consecutive runs `{text, href}` whose texts joined give the stored text exactly,
with `href` the redirector path `/l/{id}` for a link and null otherwise. Parts, not offsets:
JavaScript indexes strings in UTF-16 code units and Python in code points, so an offset into
text with an emoji in it would slice differently on each side; a part cannot be sliced wrong.

Only web links become links: http(s) URLs, `www.` and bare domains, and only those the
redirector has an unambiguous target for. Everything else the finder sees (other schemes,
scheme-relative URLs) stays text; it was checked against the rules when it was written.

A link's id is derived from who made it and the URL as written, so the same text renders to the
same `/l/{id}` on every node and at every read, and a link stored before ids were minted at write
time gets the same id when it is first read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from parley.core.links.canonical import InvalidURL
from parley.core.links.finder import find_urls
from parley.core.links.target import redirect_target

__all__ = ["TextPart", "WebLink", "link_href", "link_id", "text_parts", "web_links"]


@dataclass(frozen=True, slots=True)
class TextPart:
    text: str
    href: str | None = None  # "/l/{id}" for a link


@dataclass(frozen=True, slots=True)
class WebLink:
    start: int  # code point offsets into the text, for the server's own slicing only
    end: int
    url: str  # as written: what the redirector stores and rebuilds its target from


@lru_cache(maxsize=4096)
def web_links(text: str) -> tuple[WebLink, ...]:
    """The spans of `text` that are shown as links."""
    found: list[WebLink] = []
    for url in find_urls(text):
        if not url.web:
            continue
        try:
            redirect_target(url.text)
        except InvalidURL:
            continue
        found.append(WebLink(url.start, url.end, url.text))
    return tuple(found)


def link_id(minter: str, url: str) -> str:
    """The redirector id of `url` as `minter` (an account id) wrote it: 32 hex digits.

    Not secret (it names a URL that is in public text anyway), only stable and collision-free.
    """
    digest = hashlib.sha256(f"parley-link\0{minter}\0{url}".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:32]


def link_href(link: str) -> str:
    return f"/l/{link}"


def text_parts(text: str, minter: str) -> tuple[TextPart, ...]:
    """`text` as runs of plain text and links, each link through the redirector."""
    return split(text, [(w, link_href(link_id(minter, w.url))) for w in web_links(text)])


def split(text: str, links: Sequence[tuple[WebLink, str]]) -> tuple[TextPart, ...]:
    parts: list[TextPart] = []
    last = 0
    for link, href in links:
        if link.start > last:
            parts.append(TextPart(text[last : link.start]))
        parts.append(TextPart(text[link.start : link.end], href))
        last = link.end
    if last < len(text):
        parts.append(TextPart(text[last:]))
    return tuple(parts)
