"""Helpers for trust-and-safety tests: admins, and accounts suspended or limited by a moderator."""

from __future__ import annotations

from parley.store.accounts import AccountStore
from tests.support.clients import Person
from tests.support.servers import ServerThread

LIMIT_RULE = {"rule": "spam", "reason": "Advertising in every space"}


async def _set_admin(server: ServerThread, account_id: str) -> None:
    async with server.node.db.write() as conn:
        await AccountStore(conn).set_admin(account_id, True)


async def admin(server: ServerThread, handle: str) -> Person:
    """A signed-up account made an admin (as `parley admin create-user --admin` would)."""
    person = await Person.sign_up(server.base_url, handle)
    server.call(_set_admin(server, person.id))
    return person


async def suspend(moderator: Person, handle: str, **extra: object) -> dict[str, object]:
    body = {"rule": "harassment", "reason": "Threats against another speaker", **extra}
    result: dict[str, object] = await moderator.call(
        "POST", f"/admin/accounts/{handle}/suspend", 200, json=body
    )
    return result


async def limit(mod: Person, handle: str, **extra: object) -> dict[str, object]:
    done: dict[str, object] = await mod.call(
        "POST", f"/admin/accounts/{handle}/limit", 200, json={**LIMIT_RULE, **extra}
    )
    return done
