"""The links behind the `/l/{id}` redirector: user text rendered with its links through it, ids
minted for them, and where a click on one goes (checked at click time)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass, field
from typing import Final

from parley.config import Settings
from parley.core.errors import Invalid, NotFound
from parley.core.links.canonical import InvalidURL, canonicalize, split_canonical
from parley.core.links.caution import caution
from parley.core.links.checks import LinkCheck, MintedLink
from parley.core.links.render import TextPart, link_href, link_id, split, web_links
from parley.core.links.rules import Decision
from parley.core.links.target import redirect_target
from parley.services.common import Clock
from parley.services.link_checks import LinkChecks, refuse_overlong_url
from parley.store.db import Database
from parley.store.links import LinkStore

# Redirector ids known to have their row, so rendering text writes nothing after the first time.
_MINTED_KEPT: Final = 100_000


@dataclass(eq=False)
class Redirector:
    db: Database
    checks: LinkChecks
    settings: Settings
    _: KW_ONLY
    clock: Clock
    _minted: OrderedDict[str, None] = field(default_factory=OrderedDict, init=False)

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
        check = await self.checks.check_canonical(target, canonical)
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


def _target(url: str) -> str:
    refuse_overlong_url(url)
    try:
        return redirect_target(url)
    except InvalidURL as error:
        raise Invalid("invalid_url", f"Not a link a browser can be sent to: {error}") from None
