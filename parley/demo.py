"""`parley demo`: a few accounts and a live space, so a newcomer sees something at once."""

from __future__ import annotations

import contextlib

from parley.config import Settings
from parley.core.errors import Conflict
from parley.core.spaces.model import SpaceStatus
from parley.services.accounts import Caller
from parley.services.node import Node

PASSWORD = "parley-demo"
PEOPLE = [
    ("ada", "Ada Lovelace"),
    ("grace", "Grace Hopper"),
    ("alan", "Alan Turing"),
    ("katherine", "Katherine Johnson"),
]


async def _caller(node: Node, handle: str, name: str) -> Caller:
    with contextlib.suppress(Conflict):  # made by an earlier demo run
        await node.accounts.sign_up(handle, PASSWORD, name)
    token, _ = await node.accounts.sign_in(handle, PASSWORD, "demo")
    return await node.accounts.authenticate(token)


async def seed(settings: Settings) -> str:
    """Create the demo accounts and a live space (once); returns the space id."""
    node = Node(settings)
    await node.db.migrate()
    await node.bus.start()
    try:
        people = [await _caller(node, h, n) for h, n in PEOPLE]
        ada, grace, alan, katherine = people
        for other in (grace, alan, katherine):
            await node.accounts.follow(other, "ada")
        live = await node.spaces.browse(SpaceStatus.LIVE, ada)
        mine = [v.space for v in live if v.space.host_id == ada.account.id]
        if mine:
            return mine[0].id
        space = await node.spaces.create(
            ada,
            title="Welcome to Parley",
            description="A demo space: sign in as any demo account to look around.",
            topics=["demo", "audio"],
        )
        space_id = space.space.id
        for person in (grace, alan, katherine):
            await node.spaces.join(person, space_id)
        await node.spaces.add_cohost(ada, space_id, "grace")
        await node.spaces.raise_hand(alan, space_id)
        await node.spaces.add_speaker(ada, space_id, "alan")
        await node.spaces.raise_hand(katherine, space_id)
        return space_id
    finally:
        await node.bus.close()
        await node.db.close()


async def run_demo(settings: Settings) -> int:
    space_id = await seed(settings)
    base = f"http://{settings.host}:{settings.port}"
    handles = ", ".join(h for h, _ in PEOPLE)
    print(f"Demo accounts (password for all: {PASSWORD}): {handles}")
    print(f"Live space: {base}/api/v1/spaces/{space_id}")
    return 0
