"""A node's /metrics, read as a test reads them."""

from __future__ import annotations

from tests.support.clients import http_client
from tests.support.servers import ServerThread


async def scraped(server: ServerThread) -> dict[str, float]:
    """The node's unlabelled samples, by name (`parley_joins_total`: 12.0)."""
    async with http_client(base_url=server.base_url) as http:
        text = (await http.get("/metrics")).text
    return {
        name: float(value)
        for name, _, value in (line.partition(" ") for line in text.splitlines())
        if not name.startswith("#") and "{" not in name
    }
