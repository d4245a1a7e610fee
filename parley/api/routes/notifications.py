"""An account's notifications, and how far it has read them (the same on every device)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from parley.api.deps import CallerDep, NodeDep, PageLimit, limit
from parley.api.schemas.accounts import NotificationOut, SeenIn, UnreadOut
from parley.core.ratelimit import LimitName

router = APIRouter(prefix="/me/notifications", tags=["accounts"])


@router.get("", response_model=list[NotificationOut], response_model_exclude_defaults=True)
async def notifications(
    caller: CallerDep, node: NodeDep, limit: PageLimit = 50
) -> list[NotificationOut]:
    """The newest first, each saying whether it is unread."""
    inbox = await node.notifications.inbox(caller, limit)
    return [
        NotificationOut(
            id=n.id,
            kind=n.kind,
            data=n.data,
            created_at=n.created_at,
            unread=inbox.unread(n),
        )
        for n in inbox.notifications
    ]


@router.get("/unread", response_model=UnreadOut)
async def unread(caller: CallerDep, node: NodeDep) -> UnreadOut:
    """How many are unread, up to 99: cheap enough for a client to poll."""
    return UnreadOut(count=await node.notifications.unread(caller))


@router.post("/seen", status_code=204, dependencies=[limit(LimitName.NOTIFICATIONS_SEEN)])
async def seen(body: SeenIn, caller: CallerDep, node: NodeDep) -> Response:
    """Everything up to notification `up_to` is read, on every device."""
    await node.notifications.mark_seen(caller, body.up_to)
    return Response(status_code=204)
