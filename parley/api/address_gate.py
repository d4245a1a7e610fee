"""Paths only some client addresses may reach (`/metrics`: loopback by default).

The metrics tell anyone how busy each space's mixer is and how many sockets are open: for the
operator's scraper, not for the internet. The address is the one the HTTP server reports: the
peer's, or the one a trusted proxy forwarded (uvicorn's `--forwarded-allow-ips`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

from starlette.types import ASGIApp, Receive, Scope, Send

from parley.api.errors import problem

Network = IPv4Network | IPv6Network


def allowed(host: str | None, networks: Sequence[Network]) -> bool:
    if not host:
        return False  # a Unix socket or an unknown peer: nothing to match
    try:
        address: IPv4Address | IPv6Address = ip_address(host)
    except ValueError:
        return False
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # an IPv4 client of a dual-stack socket
    return any(address in network for network in networks)


class AddressGate:
    def __init__(self, app: ASGIApp, paths: Collection[str], networks: Sequence[Network]) -> None:
        self.app = app
        self.paths = frozenset(paths)
        self.networks = tuple(networks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in self.paths:
            client = scope.get("client")
            if not allowed(client[0] if client else None, self.networks):
                refusal = problem(
                    403, "address_not_allowed", "This address may not read this resource"
                )
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)
