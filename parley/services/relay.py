"""The home node's side of a relay (issue 12): a space's program sent to another node of the
deployment that has listeners of it. The internal route only authenticates the caller and owns
the socket; the tracks and their packets stay here and in media."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from parley.media.relay import send_program
from parley.services.media import MediaService

log = logging.getLogger(__name__)


async def relay_program(
    media: MediaService,
    space_id: str,
    node_id: str,
    *,
    accept: Callable[[], Awaitable[None]],
    send: Callable[[bytes], Awaitable[None]],
) -> None:
    """Send the program of a space mixed here to node `node_id`, one `send` per Opus packet,
    until the mixer stops or sending fails. Raises the media service's RuleViolation, before
    calling `accept`, when the space is not (or no longer) mixed here."""
    async with media.relay_feed(space_id, node_id) as track:
        await accept()
        log.info("space %s: relaying its program to node %s", space_id, node_id)
        await send_program(track, send)
