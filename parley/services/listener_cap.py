"""The node's WebRTC listener cap (`PARLEY_WEBRTC_LISTENER_CAP`): past it, a listener's offer is
refused with the space's HLS playlist, which any HTTP cache serves to any number of people.

Counted over every room on the node, from the rooms' own peers plus the listener offers being
answered right now (the check and the reservation happen with no await between them, so two
offers at once cannot both take the last place). A listener offering again replaces its own
connection, so it does not count against itself. People on stage are never capped: the stage is
at most a handful of people, and they cannot speak over HLS.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from parley.core.errors import Unavailable
from parley.media.edge import Room


def hls_playlist_path(space_id: str) -> str:
    return f"/api/v1/spaces/{space_id}/hls/live.m3u8"


class ListenerCapReached(Unavailable):
    """A listener refused WebRTC, pointed to the space's HLS playlist instead."""

    def __init__(self, space_id: str) -> None:
        super().__init__(
            "webrtc_listener_cap",
            "This node has as many WebRTC listeners as it serves: listen by HLS",
        )
        self.hls_url = hls_playlist_path(space_id)


@dataclass
class ListenerCap:
    cap: int | None  # None: no cap
    answering: int = 0  # listener offers admitted and being answered
    refused: int = 0  # offers refused since start (a counter for /metrics)

    @staticmethod
    def listeners(rooms: Iterable[Room], *, besides: tuple[str, str] | None = None) -> int:
        """WebRTC listeners connected on the node; `besides`: (space, account) not counted."""
        return sum(
            1
            for room in rooms
            for account_id, peer in room.peers.items()
            if not peer.sends and (room.space_id, account_id) != besides
        )

    @contextmanager
    def admit(self, rooms: Iterable[Room], space_id: str, account_id: str) -> Iterator[None]:
        """Hold a listener's place while its offer is answered; refuse it past the cap."""
        if self.cap is not None:
            taken = self.listeners(rooms, besides=(space_id, account_id)) + self.answering
            if taken >= self.cap:
                self.refused += 1
                raise ListenerCapReached(space_id)
        self.answering += 1
        try:
            yield
        finally:
            self.answering -= 1
