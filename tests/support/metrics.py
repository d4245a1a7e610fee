"""A node's /metrics, read as a test reads them."""

from __future__ import annotations

from tests.support.clients import http_client
from tests.support.servers import ServerThread


async def scraped(server: ServerThread) -> dict[str, float]:
    """The node's unlabelled samples, by name (`parley_joins_total`: 12.0)."""
    return await scraped_from(server.base_url)


async def scraped_from(base_url: str) -> dict[str, float]:
    """`scraped`, of a node in a process of its own."""
    async with http_client(base_url=base_url) as http:
        text = (await http.get("/metrics")).text
    return {
        name: float(value)
        for name, _, value in (line.partition(" ") for line in text.splitlines())
        if not name.startswith("#") and "{" not in name
    }
