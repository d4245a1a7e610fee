"""Posts: writing one (its links guarded, its place checked against the location policy or held
for it, the space it shares one that may be shown), deleting one, a person's posts, the timeline
of the people one follows, and the spaces a page of posts shares."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import KW_ONLY, dataclass
from datetime import datetime

from parley.core import accounts as rules
from parley.core import location
from parley.core.accounts import Post, clean_cursor
from parley.core.errors import Conflict, NotFound
from parley.core.held_posts import HeldPost, WhenTooRecent
from parley.core.location import Place
from parley.core.spaces.model import SpaceStatus
from parley.services import held_posts
from parley.services.accounts import AccountService, Caller
from parley.services.common import Clock, new_id
from parley.services.pins import PinService
from parley.services.sharing import SharingService
from parley.services.views import SpaceView
from parley.store.accounts import SocialStore
from parley.store.db import Database
from parley.store.policies import PolicyStore
from parley.store.posts import PostStore


@dataclass(eq=False)
class PostService:
    db: Database
    # Whose posts a handle names (deactivated accounts have none to show).
    accounts: AccountService
    # A deleted post leaves every room's pins at once.
    pins: PinService
    # The space a post shares: one anybody may be shown, now and whenever the post is read.
    sharing: SharingService
    _: KW_ONLY
    # Refuses text with a blocked link in it (LinkChecks.guard).
    guard_links: Callable[[str], Awaitable[None]]
    clock: Clock

    async def post(
        self,
        caller: Caller,
        text: str,
        place: Place | None = None,
        when_too_recent: WhenTooRecent = WhenTooRecent.REFUSE,
        space_id: str | None = None,
    ) -> Post | HeldPost:
        """A post, with the place it carries if any, and the space it shares if any. The
        location policy is read in the same transaction as the post is written, so a post never
        slips past a policy just set. A place too recent for it is refused, or held until the
        policy allows it if the author asked (services.held_posts)."""
        rules.check_may_contribute(caller.account)
        text = rules.clean_post(text)
        await self.guard_links(text)
        if space_id is not None:
            await self._check_shareable(space_id, caller)
        post_id, now = new_id(), self.clock()
        if place is not None:
            place = location.clean_place(place, now)
            await self.guard_links(place.label)  # shown with the post to everyone who reads it
        async with self.db.write() as conn:
            if place is not None:
                policy = await PolicyStore(conn).location()
                until = location.held_until(policy, place, now)
                if until is not None and when_too_recent is WhenTooRecent.HOLD:
                    held = HeldPost(
                        post_id, caller.account.id, text, place, now, until, policy.rule, space_id
                    )
                    return await held_posts.hold(conn, held)
                location.check_place(policy, place, now)
            await PostStore(conn).create(
                id=post_id,
                author_id=caller.account.id,
                text=text,
                now=now,
                place=place,
                space_id=space_id,
            )
        return Post(post_id, caller.account, text, now, place, space_id)

    async def _check_shareable(self, space_id: str, caller: Caller) -> None:
        """404 `space_not_found`/`space_unavailable` or 410 `space_removed` as its page says;
        409 `space_cancelled` for one that will never happen. The space as it is now (not from
        the exposure cache: its state is read), no text rendered."""
        space = await self.sharing.check(space_id, remembered=False)
        if space.state is SpaceStatus.CANCELLED:
            raise Conflict("space_cancelled", "This space was cancelled: there is nothing to share")

    async def spaces_shared(
        self, posts: Sequence[Post], reader: Caller | None
    ) -> dict[str, SpaceView]:
        """The spaces these posts share that may be shown now, by id: one taken down, or whose
        host is suspended or gone, since the post was written is left out."""
        return await self.sharing.shown(
            [p.space_id for p in posts if p.space_id is not None], reader
        )

    async def delete(self, caller: Caller, post_id: str) -> None:
        """The author deletes a post: from then on nobody is shown it (timelines, profiles, pins,
        share pages). The row stays for the reports and moderation that name it."""
        async with self.db.write() as conn:
            if not await PostStore(conn).delete(post_id, caller.account.id, self.clock()):
                raise NotFound("post_not_found", "You have no such post")
        await self.pins.unpin_everywhere(post_id, by=caller.account.id)

    async def posts_of(self, handle: str, *, before: datetime | None, limit: int) -> list[Post]:
        account = await self.accounts.shown(handle)
        async with self.db.read() as conn:
            return await PostStore(conn).by_authors(
                [account.id], before=clean_cursor(before), limit=limit
            )

    async def timeline(self, caller: Caller, *, before: datetime | None, limit: int) -> list[Post]:
        """Posts of the accounts the caller follows, and the caller's own, newest first."""
        async with self.db.read() as conn:
            authors = await SocialStore(conn).followee_ids(caller.account.id)
            return await PostStore(conn).by_authors(
                [*authors, caller.account.id], before=clean_cursor(before), limit=limit
            )
