"""Spaces: discover, host, join, and run the stage."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from parley.api.deps import CallerDep, MaybeCallerDep, NodeDep, PageLimit, limit
from parley.api.direct import caller_acting, node_of, served_by
from parley.api.schemas.spaces import (
    IceServerOut,
    MediaAnswer,
    MediaConfig,
    MediaOffer,
    NewSpace,
    Owners,
    ParticipantOut,
    Reaction,
    SpaceChange,
    SpaceOut,
)
from parley.config import IceServer
from parley.core.ratelimit import LimitName
from parley.core.spaces.model import Participant, SpaceStatus, SpeakPolicy
from parley.services.accounts import Caller
from parley.services.node import Node
from parley.services.spaces import PersonMove, SpaceService
from parley.services.views import SpaceView

router = APIRouter(prefix="/spaces", tags=["spaces"])
# What people do in a space (join, hands, stage moves, mutes, edits), under one per-account
# limit; included into `router` at the end. Ending, leaving and hanging up stay on `router`:
# they must always work.
actions = APIRouter(dependencies=[limit(LimitName.SPACE_ACTIONS)])


async def spaces_out(node: Node, views: Sequence[SpaceView]) -> list[SpaceOut]:
    """Spaces as readers get them: every bot on a stage or hosting labelled with its owner."""
    owners = await owners_in(node, views)
    return [SpaceOut.of(view, owners) for view in views]


async def owners_in(node: Node, views: Sequence[SpaceView]) -> Owners:
    """The bots on these spaces' stages or hosting them, with their owners."""
    ids = [p.account_id for view in views for p in view.stage]
    return await node.bots.owners_of(ids + [view.space.host_id for view in views])


async def _space_out(node: Node, view: SpaceView) -> SpaceOut:
    return (await spaces_out(node, [view]))[0]


async def _participants_out(node: Node, found: Sequence[Participant]) -> list[ParticipantOut]:
    owners = await node.bots.owners_of([p.account_id for p in found])
    return [ParticipantOut.of(p, owners) for p in found]


def _done() -> Response:
    return Response(status_code=204)


def _ice(servers: Sequence[IceServer]) -> list[IceServerOut]:
    return [
        IceServerOut(urls=s.urls, username=s.username, credential=s.credential) for s in servers
    ]


@router.post(
    "", status_code=201, response_model=SpaceOut, dependencies=[limit(LimitName.SPACES_CREATED)]
)
async def create(body: NewSpace, caller: CallerDep, node: NodeDep) -> SpaceOut:
    created = await node.spaces.create(
        caller,
        title=body.title,
        description=body.description,
        topics=body.topics,
        scheduled_start=body.scheduled_start,
        recording=body.recording,
        speak_policy=SpeakPolicy(body.speak_policy),
    )
    return await _space_out(node, created)


@router.get("", response_model=list[SpaceOut])
async def browse(
    node: NodeDep,
    caller: MaybeCallerDep,
    state: Literal["live", "scheduled", "ended"] = "live",
    limit: PageLimit = 50,
    host: Annotated[str | None, Query(max_length=15)] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
) -> list[SpaceOut]:
    """Spaces in `state`, those of hosts the caller follows first; `q`: only those whose
    title or a topic holds it, any case; `host`: only that account's (404
    `account_not_found`), as its profile lists them."""
    if host is not None:
        found = await node.spaces.hosted_by(host, SpaceStatus(state), caller, limit)
    else:
        found = await node.spaces.browse(SpaceStatus(state), caller, limit, text=q)
    return await spaces_out(node, found)


@router.get(
    "/{space_id}",
    response_model=SpaceOut,
    responses={
        404: {"description": "No such space, or its host is suspended (`space_unavailable`)"},
        410: {"description": "The space was ended by moderation (`space_removed`)"},
    },
)
async def show(space_id: str, node: NodeDep, caller: MaybeCallerDep) -> SpaceOut:
    # The share page's rule, so that the API shows no more of a space moderation took down.
    return await _space_out(node, await node.sharing.exposed(space_id, caller))


@actions.patch("/{space_id}", response_model=SpaceOut)
async def edit(space_id: str, body: SpaceChange, caller: CallerDep, node: NodeDep) -> SpaceOut:
    edited = await node.spaces.edit(
        caller,
        space_id,
        title=body.title,
        description=body.description,
        topics=body.topics,
        scheduled_start=body.scheduled_start,
    )
    return await _space_out(node, edited)


@actions.post("/{space_id}/start", response_model=SpaceOut)
async def start(space_id: str, caller: CallerDep, node: NodeDep) -> SpaceOut:
    return await _space_out(node, await node.spaces.start(caller, space_id))


@router.post("/{space_id}/end", response_model=SpaceOut)
async def end(space_id: str, caller: CallerDep, node: NodeDep) -> SpaceOut:
    return await _space_out(node, await node.spaces.end(caller, space_id))


@router.get("/{space_id}/listeners", response_model=list[ParticipantOut])
async def listeners(
    space_id: str, node: NodeDep, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[ParticipantOut]:
    return await _participants_out(node, await node.spaces.listeners(space_id, limit))


async def join(space_id: str, caller: CallerDep, node: NodeDep) -> ParticipantOut:
    """Join as a listener (nothing changes for someone already in). Being in a space takes a
    connection: open its event socket (before or after joining) or connect its audio; with
    neither, the person is away once `PARLEY_CONNECT_WAIT_SECONDS` have passed, and leaves
    after the presence timeout."""
    # Clients open the space's event socket next (the web client does): counted here.
    joined = await node.joins.join(caller, space_id, socket_follows=True)
    owner = joined.bot_owner
    return ParticipantOut.of(
        joined.participant, {} if owner is None else {caller.account.id: owner}
    )


async def _join_directly(request: Request) -> Response:
    """`join` without dependency solving: the route of a join rush (api/direct.py)."""
    node = node_of(request)
    caller = await caller_acting(request, node, LimitName.SPACE_ACTIONS)
    joined = await join(request.path_params["space_id"], caller, node)
    return Response(joined.model_dump_json(), media_type="application/json")


# The join of a rush, in a router of its own that the app matches before all others (app.py).
rush = APIRouter(prefix="/spaces", tags=["spaces"], dependencies=[limit(LimitName.SPACE_ACTIONS)])
rush.add_api_route(
    "/{space_id}/join",
    join,
    methods=["POST"],
    response_model=ParticipantOut,
    route_class_override=served_by(_join_directly),
)


# The caller acting on a space, or on someone in it named by handle: each answers 204 and has
# no body, so one table holds them. Route names are the operation ids' stems: keep them.
OnSpace = Callable[[SpaceService, Caller, str], Awaitable[None]]

ON_SPACE: tuple[tuple[APIRouter, str, str, str, OnSpace], ...] = (
    (actions, "POST", "/{space_id}/reminders", "remind", SpaceService.remind),
    (actions, "DELETE", "/{space_id}/reminders", "cancel_reminder", SpaceService.cancel_reminder),
    (router, "POST", "/{space_id}/leave", "leave", SpaceService.leave),
    (actions, "POST", "/{space_id}/hand", "raise_hand", SpaceService.raise_hand),
    (actions, "DELETE", "/{space_id}/hand", "lower_hand", SpaceService.lower_hand),
    (actions, "POST", "/{space_id}/invitation/accept", "accept", SpaceService.accept_invitation),
    (actions, "POST", "/{space_id}/invitation/decline", "decline", SpaceService.decline_invitation),
    (actions, "POST", "/{space_id}/unmute", "unmute", SpaceService.unmute),
)

ON_PERSON: tuple[tuple[str, str, PersonMove], ...] = (
    ("POST", "/{space_id}/speakers/{handle}", PersonMove.ADD_SPEAKER),
    ("DELETE", "/{space_id}/speakers/{handle}", PersonMove.TO_AUDIENCE),
    ("POST", "/{space_id}/cohosts/{handle}", PersonMove.ADD_COHOST),
    ("DELETE", "/{space_id}/cohosts/{handle}", PersonMove.REMOVE_COHOST),
    ("POST", "/{space_id}/mute/{handle}", PersonMove.MUTE),
    ("POST", "/{space_id}/remove/{handle}", PersonMove.REMOVE),
)

DESCRIPTIONS = {
    PersonMove.ADD_SPEAKER: "Approve a raised hand, or invite someone who did not ask.",
    PersonMove.TO_AUDIENCE: "Back to the audience; on a listener, deny their request or "
    "withdraw the invitation.",
}


def _on_space(act: OnSpace) -> Callable[..., Awaitable[Response]]:
    async def endpoint(space_id: str, caller: CallerDep, node: NodeDep) -> Response:
        await act(node.spaces, caller, space_id)
        return _done()

    return endpoint


def _on_person(move: PersonMove) -> Callable[..., Awaitable[Response]]:
    async def endpoint(space_id: str, handle: str, caller: CallerDep, node: NodeDep) -> Response:
        await node.spaces.on_person(caller, space_id, handle, move)
        return _done()

    return endpoint


def _add_actions() -> None:
    for on, method, path, name, space_act in ON_SPACE:
        on.add_api_route(path, _on_space(space_act), methods=[method], name=name, status_code=204)
    for method, path, move in ON_PERSON:
        actions.add_api_route(
            path,
            _on_person(move),
            methods=[method],
            name=move.value,
            status_code=204,
            description=DESCRIPTIONS.get(move),
        )


_add_actions()


@router.post("/{space_id}/reactions", status_code=204, dependencies=[limit(LimitName.REACTIONS)])
async def react(space_id: str, body: Reaction, caller: CallerDep, node: NodeDep) -> Response:
    await node.spaces.react(caller, space_id, body.emoji)
    return _done()


@router.post(
    "/{space_id}/media",
    response_model=MediaAnswer,
    response_model_exclude_none=True,
    dependencies=[limit(LimitName.MEDIA_OFFERS)],
)
async def media(space_id: str, body: MediaOffer, caller: CallerDep, node: NodeDep) -> MediaAnswer:
    """WebRTC offer → answer. Stage members send and receive (a mix without their own voice);
    listeners only receive. A new offer replaces the caller's previous connection."""
    answer = await node.media.connect(caller, space_id, body.sdp, body.type)
    return MediaAnswer(sdp=answer.sdp, type="answer", ice_servers=_ice(answer.ice_servers))


@router.get("/{space_id}/media", response_model=MediaConfig, response_model_exclude_none=True)
async def media_config(space_id: str, caller: CallerDep, node: NodeDep) -> MediaConfig:
    """The STUN/TURN servers to gather candidates with, before making the offer; TURN with a
    short-lived credential of the caller's own. Only for participants of the space."""
    return MediaConfig(ice_servers=_ice(await node.media.config(caller, space_id)))


@router.delete("/{space_id}/media", status_code=204)
async def hang_up(space_id: str, caller: CallerDep, node: NodeDep) -> Response:
    await node.media.disconnect(caller, space_id)
    return _done()


router.include_router(actions)
