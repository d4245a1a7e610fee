"""The ICE servers handed out with media: STUN as configured, and TURN with a short-lived
credential of the asker's own (a TURN relay is bandwidth the node pays for)."""

from __future__ import annotations

from dataclasses import dataclass

from parley.config import IceServer, Settings
from parley.core.turn import turn_credential
from parley.services.common import Clock

# Who the server's own peer connections are, in their TURN usernames.
NODE_TURN_IDENTITY = "parley-node"


@dataclass(frozen=True, eq=False)
class IceCredentials:
    settings: Settings
    clock: Clock

    def for_account(self, account_id: str) -> tuple[IceServer, ...]:
        return (*self.settings.ice_servers, *self._turn(account_id))

    def for_node(self) -> list[IceServer]:
        # The relay first: aiortc uses only the first TURN server it is given.
        return [*self._turn(NODE_TURN_IDENTITY), *self.settings.ice_servers]

    def _turn(self, who: str) -> list[IceServer]:
        """The TURN servers with a credential for `who`, valid from now for the TTL."""
        secret = self.settings.turn_secret
        if secret is None or not self.settings.turn_urls:
            return []
        made = turn_credential(
            secret.get_secret_value(),
            who,
            now=self.clock(),
            ttl_seconds=self.settings.turn_ttl_seconds,
        )
        return [
            IceServer(
                urls=self.settings.turn_urls, username=made.username, credential=made.credential
            )
        ]
