"""`parley demo`: a few accounts and a live space, so a newcomer sees something at once; and
Ada's flight-tracker bot (examples/flight_tracker), replaying its recorded flight through the
public API, so her timeline fills as one watches."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

from parley.config import Settings
from parley.core.errors import Conflict
from parley.core.spaces.model import SpaceStatus
from parley.services.accounts import Caller
from parley.services.node import Node
from parley.services.spaces import PersonMove

PASSWORD = "parley-demo"
BOT = ("jetwatch", "Jet watch")
TRACKER_TOKEN = "demo flight tracker"
# The repository's root: the example is beside the package, not inside it.
ROOT = Path(__file__).resolve().parents[1]
# The recorded flight (95 min) replayed in about three.
REPLAY_SPEED = 30
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
        # The demo's people keep their places with nobody behind them: the tickets of these
        # joins (and of Ada's start) stay counted under this seeding node's id, which never
        # advertised itself, so no node takes them back (services/presence.py) and the room
        # stays live with its stage whether or not anyone opens it.
        for person in (grace, alan, katherine):
            await node.joins.join(person, space_id)
        await node.spaces.on_person(ada, space_id, "grace", PersonMove.ADD_COHOST)
        await node.spaces.raise_hand(alan, space_id)
        await node.spaces.on_person(ada, space_id, "alan", PersonMove.ADD_SPEAKER)
        await node.spaces.raise_hand(katherine, space_id)
        return space_id
    finally:
        await node.bus.close()
        await node.db.close()


async def seed_bot(settings: Settings) -> str:
    """Ada's bot @jetwatch (once), followed by Ada, and a fresh token for it to post with (the
    one an earlier run made is revoked)."""
    node = Node(settings)
    await node.db.migrate()
    await node.bus.start()
    try:
        ada = await _caller(node, *PEOPLE[0])
        with contextlib.suppress(Conflict):
            await node.bots.create(ada, *BOT)
        with contextlib.suppress(Conflict):
            await node.accounts.follow(ada, BOT[0])
        for old in await node.tokens.of(ada):
            if old.name == TRACKER_TOKEN:
                await node.tokens.revoke(ada, old.id)
        made = await node.tokens.create(ada, TRACKER_TOKEN, ["posts:write"], BOT[0])
        return made.secret
    finally:
        await node.bus.close()
        await node.db.close()


def start_tracker(settings: Settings, token: str) -> subprocess.Popen[bytes] | None:
    """The flight tracker as its own process, posting through the API once the server is up;
    None when the example is not there (Parley installed without its repository)."""
    if not (ROOT / "examples" / "flight_tracker" / "__main__.py").exists():
        print("(examples/flight_tracker not found: the demo bot will not post)")
        return None
    command = [
        sys.executable, "-m", "examples.flight_tracker",
        "--server", f"http://{settings.host}:{settings.port}",
        "--watch", "a835af=N628TS,ab1e7c",
        "--speed", str(REPLAY_SPEED), "--as-if-now", "--wait-for-server", "60",
    ]  # fmt: skip
    env = {**os.environ, "PARLEY_TOKEN": token, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(command, cwd=ROOT, env=env)


async def run_demo(settings: Settings) -> str:
    """Seed the demo; the flight tracker's token."""
    space_id = await seed(settings)
    token = await seed_bot(settings)
    base = f"http://{settings.host}:{settings.port}"
    handles = ", ".join(h for h, _ in PEOPLE)
    print(f"Demo accounts (password for all: {PASSWORD}): {handles}")
    print(f"Live space, to open in a browser: {base}/#/spaces/{space_id}")
    print(f"@{BOT[0]}, Ada's bot, posts a recorded flight's take-offs and landings to her timeline")
    return token
