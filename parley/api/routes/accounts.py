"""Accounts, sessions, the social graph and posts (notifications: routes/notifications.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from parley.api.deps import CallerDep, MaybeCallerDep, NodeDep, PageLimit, client_address, limit
from parley.api.routes.spaces import spaces_out
from parley.api.schemas.accounts import (
    Deactivate,
    HeldPostOut,
    MeOut,
    NewPost,
    OwnAccountOut,
    PasswordChange,
    PostOut,
    ProfileChange,
    ProfileOut,
    SessionOut,
    SignIn,
    SignUp,
)
from parley.api.schemas.common import AccountOut, TextPartOut
from parley.api.schemas.location import PlaceOut
from parley.core.accounts import AccountState, Post
from parley.core.held_posts import HeldPost, WhenTooRecent
from parley.core.ratelimit import LimitName
from parley.services.accounts import Caller
from parley.services.node import Node

router = APIRouter(tags=["accounts"])


async def posts_out(node: Node, posts: list[Post], reader: Caller | None = None) -> list[PostOut]:
    """Posts as readers get them: the links in their text already through the redirector, the
    spaces they share as `GET /spaces/{id}` shows them (to `reader`)."""
    parts = await node.redirector.render([(p.text, p.author.id) for p in posts])
    owners = await node.bots.owners_of([p.author.id for p in posts])
    views = await node.posts.spaces_shared(posts, reader)
    cards = dict(zip(views, await spaces_out(node, list(views.values())), strict=True))
    return [
        PostOut(
            id=post.id,
            text=post.text,
            text_parts=TextPartOut.of_parts(text_parts),
            created_at=post.created_at,
            place=PlaceOut.of(post.place),
            author=AccountOut.of_account(post.author, owners.get(post.author.id)),
            space=cards.get(post.space_id) if post.space_id else None,
        )
        for post, text_parts in zip(posts, parts, strict=True)
    ]


@router.post(
    "/accounts",
    status_code=201,
    response_model=AccountOut,
    dependencies=[limit(LimitName.SIGN_UP_ADDRESS)],
)
async def sign_up(body: SignUp, node: NodeDep) -> AccountOut:
    account = await node.accounts.sign_up(body.handle, body.password, body.display_name)
    return AccountOut.of_account(account)


@router.post("/sessions", status_code=201, response_model=SessionOut, tags=["sessions"])
async def sign_in(body: SignIn, request: Request, node: NodeDep) -> SessionOut:
    address = client_address(request)
    token, account = await node.accounts.sign_in(body.handle, body.password, address)
    return SessionOut(token=token, account=OwnAccountOut.of_account(account))


@router.delete("/sessions/current", status_code=204, tags=["sessions"])
async def sign_out(caller: CallerDep, node: NodeDep) -> Response:
    await node.accounts.sign_out(caller)
    return Response(status_code=204)


@router.delete("/sessions", status_code=204, tags=["sessions"])
async def sign_out_everywhere(caller: CallerDep, node: NodeDep) -> Response:
    """Every session of the account ends, this one included; their sockets close at once."""
    await node.accounts.sign_out_everywhere(caller)
    return Response(status_code=204)


@router.post(
    "/accounts/me/password",
    status_code=204,
    tags=["sessions"],
    dependencies=[limit(LimitName.PASSWORD_CHANGE)],
)
async def change_password(body: PasswordChange, caller: CallerDep, node: NodeDep) -> Response:
    """With the current password; every other session of the account ends."""
    await node.accounts.change_password(caller, body.current_password, body.new_password)
    return Response(status_code=204)


@router.post(
    "/accounts/me/deactivate",
    status_code=204,
    tags=["sessions"],
    dependencies=[limit(LimitName.PASSWORD_CHANGE)],  # a password guess, like a change's
)
async def deactivate(body: Deactivate, caller: CallerDep, node: NodeDep) -> Response:
    """Delete the caller's account for good, with its password: every session and token ends,
    it leaves every space, its posts and profile are no longer shown, its bots go with it."""
    await node.deactivation.deactivate(caller, body.password)
    return Response(status_code=204)


@router.get("/me", response_model=MeOut)
async def me(caller: CallerDep, node: NodeDep) -> MeOut:
    mine = await profile(caller.account.handle, node, caller)
    state = "limited" if caller.account.state is AccountState.LIMITED else "active"
    return MeOut(**dict(mine), is_admin=caller.account.is_admin, state=state)


@router.patch(
    "/accounts/me", response_model=ProfileOut, dependencies=[limit(LimitName.PROFILE_CHANGES)]
)
async def update_me(body: ProfileChange, caller: CallerDep, node: NodeDep) -> ProfileOut:
    account = await node.accounts.update_profile(
        caller, display_name=body.display_name, bio=body.bio
    )
    return await profile(account.handle, node, caller)


@router.get("/accounts", response_model=list[AccountOut])
async def find_people(
    node: NodeDep,
    q: Annotated[str, Query(min_length=1, max_length=50)],
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
) -> list[AccountOut]:
    """Accounts whose handle or display name holds `q` (any case), handles starting with it
    first; suspended and deleted accounts are not found."""
    found = await node.accounts.find_people(q, limit)
    owners = await node.bots.owners_of([a.id for a in found])
    return [AccountOut.of_account(a, owners.get(a.id)) for a in found]


@router.get("/accounts/{handle}", response_model=ProfileOut)
async def profile(handle: str, node: NodeDep, caller: MaybeCallerDep) -> ProfileOut:
    p = await node.accounts.profile(handle, caller)
    name, bio = await node.redirector.render(
        [(p.account.display_name, p.account.id), (p.account.bio, p.account.id)]
    )
    owners = await node.bots.owners_of([p.account.id])
    return ProfileOut.of_account(
        p.account,
        owners.get(p.account.id),
        display_name_parts=TextPartOut.of_parts(name),
        bio_parts=TextPartOut.of_parts(bio),
        followers=p.followers,
        following=p.following,
        followed_by_me=p.followed_by_me,
        blocked_by_me=p.blocked_by_me,
    )


@router.post("/accounts/{handle}/follow", status_code=204, dependencies=[limit(LimitName.FOLLOWS)])
async def follow(handle: str, caller: CallerDep, node: NodeDep) -> Response:
    await node.accounts.follow(caller, handle)
    return Response(status_code=204)


@router.delete("/accounts/{handle}/follow", status_code=204)
async def unfollow(handle: str, caller: CallerDep, node: NodeDep) -> Response:
    await node.accounts.unfollow(caller, handle)
    return Response(status_code=204)


@router.post("/accounts/{handle}/block", status_code=204, dependencies=[limit(LimitName.FOLLOWS)])
async def block(handle: str, caller: CallerDep, node: NodeDep) -> Response:
    blocked = await node.accounts.block(caller, handle)
    await node.spaces.keep_out(caller, blocked.id)
    return Response(status_code=204)


@router.delete("/accounts/{handle}/block", status_code=204)
async def unblock(handle: str, caller: CallerDep, node: NodeDep) -> Response:
    await node.accounts.unblock(caller, handle)
    return Response(status_code=204)


@router.post(
    "/posts",
    status_code=201,
    response_model=PostOut,
    responses={202: {"model": HeldPostOut, "description": "Held until the policy allows it"}},
    tags=["posts"],
    dependencies=[limit(LimitName.POSTS)],
)
async def create_post(body: NewPost, caller: CallerDep, node: NodeDep) -> PostOut | JSONResponse:
    """201 with the post; 202 with the held post when its place is too recent for the
    location policy and `when_too_recent` is `hold`."""
    place = body.place.place() if body.place else None
    made = await node.posts.post(
        caller, body.text, place, WhenTooRecent(body.when_too_recent), body.space_id
    )
    if isinstance(made, HeldPost):
        return JSONResponse(HeldPostOut.of(made).model_dump(mode="json"), status_code=202)
    return (await posts_out(node, [made], caller))[0]


@router.delete("/posts/{post_id}", status_code=204, tags=["posts"])
async def delete_post(post_id: str, caller: CallerDep, node: NodeDep) -> Response:
    """Delete one of your posts: nobody is shown it again (404 `post_not_found` for a post
    that is not yours)."""
    await node.posts.delete(caller, post_id)
    return Response(status_code=204)


@router.get("/me/held-posts", response_model=list[HeldPostOut], tags=["posts"])
async def held_posts(caller: CallerDep, node: NodeDep) -> list[HeldPostOut]:
    """Your posts waiting for the location policy, the next to be published first."""
    return [HeldPostOut.of(held) for held in await node.held_posts.of(caller)]


@router.delete("/me/held-posts/{post_id}", status_code=204, tags=["posts"])
async def cancel_held_post(post_id: str, caller: CallerDep, node: NodeDep) -> Response:
    """It will not be published (404 `held_post_not_found` once it has been)."""
    await node.held_posts.cancel(caller, post_id)
    return Response(status_code=204)


@router.get("/timeline", response_model=list[PostOut], tags=["posts"])
async def timeline(
    caller: CallerDep, node: NodeDep, before: datetime | None = None, limit: PageLimit = 50
) -> list[PostOut]:
    posts = await node.posts.timeline(caller, before=before, limit=limit)
    return await posts_out(node, posts, caller)


@router.get("/accounts/{handle}/posts", response_model=list[PostOut], tags=["posts"])
async def posts_of(
    handle: str, node: NodeDep, before: datetime | None = None, limit: PageLimit = 50
) -> list[PostOut]:
    return await posts_out(node, await node.posts.posts_of(handle, before=before, limit=limit))
