"""Scheduled spaces in tests: people signed up at once, and a space scheduled two days ahead."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.support.clients import Person
from tests.support.servers import ServerThread


async def people(server: ServerThread, *handles: str) -> list[Person]:
    return [await Person.sign_up(server.base_url, h) for h in handles]


async def schedule(host: Person, title: str) -> str:
    start = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    body = {"title": title, "scheduled_start": start}
    created = await host.call("POST", "/spaces", 201, json=body)
    assert created["state"] == "scheduled" and created["reminded"] is False
    return str(created["id"])
