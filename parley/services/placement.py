"""Where each room's program comes from (issue 12): the room's own mixer on the space's home
node, or a relay of the home's mixer on any other node; and offers from the stage passed on to
the home, since only its mixer hears the stage.

A relaying room keeps its listeners when the home goes: the relay drops, the room asks the
database for the home again, and once the dead home's lease has run out this node takes the
space (a claim is one conditional UPDATE: among nodes racing for it one wins), starts the
mixer, and the room's program switches to it (media/program_switch.py); the nodes that lost the
race relay from the winner.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

import httpx

from parley.core.errors import Conflict, Forbidden, Invalid, NotFound, RuleViolation, Unavailable
from parley.core.homing import Home
from parley.media.edge import Room, RoomClosed
from parley.media.relay import RelayReceiver
from parley.services.background import cancel_and_wait
from parley.services.hls import HlsService
from parley.services.homing import Homing
from parley.services.spaces import SpaceService

log = logging.getLogger(__name__)

# Between attempts to reach a space's home (or to take it over once its lease ran out).
RELAY_RETRY_SECONDS = 0.25
FORWARD_TIMEOUT_SECONDS = 15.0

_PROBLEMS: dict[int, type[RuleViolation]] = {
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    422: Invalid,
}


def relay_purpose(space_id: str) -> str:
    return f"relay:{space_id}"


OFFER_PURPOSE = "offer"


@dataclass(eq=False)
class Placement:
    """One room's place: mixing here, or relaying from `home`."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    relay: asyncio.Task[None] | None = None
    receiver: RelayReceiver | None = None
    home: Home | None = None
    relays: int = 0  # other nodes relaying this room's program from here now
    relayed_to: set[str] = field(default_factory=set)  # every node that did: successors


class RoomPlacement:
    def __init__(
        self,
        homing: Homing,
        spaces: SpaceService,
        hls: HlsService | None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,  # tests answer for the home
    ) -> None:
        self.homing = homing
        self.spaces = spaces
        self.hls = hls
        self._transport = transport
        self._http: httpx.AsyncClient | None = None

    async def place(self, room: Room, placement: Placement) -> None:
        """Give the room a program: mix here if this node is (or now becomes) the space's
        home, else relay the home's."""
        async with placement.lock:
            if room.mixing:
                return
            if not self.homing.enabled:
                await self._mix(room, placement)
                return
            relaying = placement.relay is not None and not placement.relay.done()
            if relaying and room.space_id not in self.homing.held:
                return  # relaying already; unless this node just took the space over
            home = await self.homing.resolve(room.space_id)
            if self.homing.is_me(home):
                await self._mix(room, placement)
            elif not relaying:
                placement.home = home
                placement.relay = asyncio.create_task(
                    self._relay(room, placement), name=f"relay:{room.space_id}"
                )

    async def home_elsewhere(self, space_id: str, room: Room | None) -> Home | None:
        """The space's home when it is another node (this node may become it); None here."""
        if not self.homing.enabled or (room is not None and room.mixing):
            return None
        home = await self.homing.resolve(space_id)
        return None if self.homing.is_me(home) else home

    async def stopped(self, room: Room, placement: Placement) -> None:
        """The room closed: its relay stops, and the space's lease goes if it was mixed here."""
        await cancel_and_wait(placement.relay)
        if self.homing.enabled:
            await self.homing.release(room.space_id)

    async def _mix(self, room: Room, placement: Placement) -> None:
        relay = placement.relay
        if relay is not None and relay is not asyncio.current_task():
            relay.cancel()  # its feed closes: the room's program moves to the mixer
        await room.start_mixing()
        placement.home = None
        if self.hls is not None:
            self.hls.mixer_started(room.space_id, room.mixer)

    async def _relay(self, room: Room, placement: Placement) -> None:
        space_id = room.space_id
        while True:
            home = placement.home
            if home is None:
                return
            receiver = RelayReceiver(
                _websocket_url(home.node_url, f"/internal/v1/relay/{space_id}"),
                self.homing.authorization(relay_purpose(space_id)),
            )
            placement.receiver = receiver
            room.take_program_from(receiver.program_track)
            await receiver.run()
            await asyncio.sleep(RELAY_RETRY_SECONDS)
            try:
                if not (await self.spaces.stage(space_id)).live:
                    return  # the room's follower closes it
                home = await self.homing.resolve(space_id)
            except Exception:
                log.exception("space %s: could not look up its home; trying again", space_id)
                continue
            if self.homing.is_me(home):
                log.info("space %s: its home moved here", space_id)
                with contextlib.suppress(RoomClosed):
                    await self._mix(room, placement)
                return
            placement.home = home

    # --- offers from the stage go to the home ----------------------------------------------

    async def forward_offer(
        self, home: Home, space_id: str, account_id: str, session_id: str, sdp: str
    ) -> str:
        """The home node's answer to a stage member's offer that reached this node."""
        body = {"sdp": sdp, "account_id": account_id, "session_id": session_id}
        response = await self._post(home, f"/internal/v1/spaces/{space_id}/media", body)
        answer = response.json().get("sdp")
        if not isinstance(answer, str):
            raise Unavailable("home_unreachable", "The space's home node gave no answer")
        return answer

    async def forward_hang_up(self, home: Home, space_id: str, account_id: str) -> None:
        with contextlib.suppress(RuleViolation):
            path = f"/internal/v1/spaces/{space_id}/media/{account_id}/hang-up"
            await self._post(home, path, {})

    async def _post(self, home: Home, path: str, body: dict[str, str]) -> httpx.Response:
        if self._http is None:
            self._http = httpx.AsyncClient(
                timeout=FORWARD_TIMEOUT_SECONDS, transport=self._transport
            )
        try:
            response = await self._http.post(
                home.node_url + path, json=body, headers=self.homing.authorization(OFFER_PURPOSE)
            )
        except httpx.HTTPError as exc:
            log.warning("could not reach %s: %s", home.node_url, exc)
            raise Unavailable(
                "home_unreachable", "The space's home node cannot be reached; try again"
            ) from exc
        if response.status_code >= 400:
            try:
                problem = response.json()
            except ValueError:
                problem = {}
            code = str(problem.get("code", "home_unreachable"))
            title = str(problem.get("title", "The space's home node refused"))
            kind = _PROBLEMS.get(response.status_code)
            if kind is not None:
                raise kind(code, title)
            # The home's own wait (a draining home: 1 s) holds for the client too.
            retry_after = problem.get("retry_after")
            raise Unavailable(
                code, title, retry_after=retry_after if isinstance(retry_after, int) else None
            )
        return response

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()


def _websocket_url(base: str, path: str) -> str:
    if base.startswith("https://"):
        return "wss://" + base.removeprefix("https://") + path
    return "ws://" + base.removeprefix("http://") + path
