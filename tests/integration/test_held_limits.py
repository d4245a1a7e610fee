"""A suspension that comes over a limit stops more than the limit, but does not end it: when the
suspension ends (a moderator, its time, an overturned appeal) the account is limited again, to
the limit's own end, unless that end came first or an appeal overturned the limit meanwhile.
Else suspending a limited account for an hour would be the way to free it. An overturned appeal
lifts only what its own action imposed, never a later restriction of the same kind. Bots follow
their owner. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.support.clients import Person, make_bot, sign_in_answer, token_for
from tests.support.moderation import admin, limit, suspend
from tests.support.servers import ServerThread, sweeps


def _in(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).isoformat()


async def _audited(mod: Person, person: Person) -> list[tuple[str, Any]]:
    entries = await mod.call("GET", f"/admin/audit?target_id={person.id}", 200)
    return [(e["action"], (e["after"] or {}).get("state")) for e in entries]


async def _appeal(person: Person, notice_id: str) -> str:
    """As a suspended account appeals: with the token its refused sign-in gives."""
    refused = await sign_in_answer(person.base_url, person.handle)
    assert refused.status_code == 403, refused.text
    appealing = Person(person.base_url, person.handle, refused.json()["appeal_token"], {})
    appeal = await appealing.call(
        "POST", "/appeals", 201, json={"notice_id": notice_id, "text": "Please look again"}
    )
    await appealing.close()
    return str(appeal["id"])


async def _decide(mod: Person, appeal_id: str, decision: str = "overturned") -> None:
    body = {"decision": decision, "reason": "Looked again"}
    await mod.call("POST", f"/admin/appeals/{appeal_id}/decide", 200, json=body)


async def test_a_limit_holds_again_when_the_suspension_over_it_ends(server: ServerThread) -> None:
    mod = await admin(server, "mod")
    lee = await Person.sign_up(server.base_url, "lee")
    await limit(mod, "lee")
    ends = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    await suspend(mod, "lee", until=ends.isoformat())
    assert (await sign_in_answer(server.base_url, "lee")).status_code == 403
    # Moderators see when the suspension ends, and the limit waiting under it.
    (found,) = await mod.call("GET", "/admin/accounts", 200, params={"q": "lee"})
    assert (found["state"], found["held_limit"]) == ("suspended", {"until": None})
    assert datetime.fromisoformat(found["until"]) == ends

    done = await mod.call(
        "POST", "/admin/accounts/lee/unsuspend", 200, json={"reason": "Served its time"}
    )
    assert done["state"] == "limited"
    (found,) = await mod.call("GET", "/admin/accounts", 200, params={"q": "lee"})
    assert (found["state"], found["held_limit"], found["until"]) == ("limited", None, None)
    lee = await Person.sign_in(server.base_url, "lee")
    assert (await lee.call("GET", "/me", 200))["state"] == "limited"
    await lee.refused("POST", "/posts", 403, "account_limited", json={"text": "Free at last"})
    told = (await lee.call("GET", "/me/notifications", 200))[0]
    assert told["kind"] == "unsuspended"
    assert told["data"] == {"reason": "Served its time", "still_limited": True, "until": None}
    assert await _audited(mod, lee) == [
        ("unsuspend", "limited"),
        ("suspend", "suspended"),
        ("limit", "limited"),
    ]

    # The limit is the one it was: a moderator lifts it as any other.
    await mod.call("POST", "/admin/accounts/lee/unlimit", 200, json={"reason": "Enough"})
    await lee.call("POST", "/posts", 201, json={"text": "Back"})
    for person in (mod, lee):
        await person.close()


async def test_each_ends_with_its_own_time(server: ServerThread) -> None:
    mod = await admin(server, "mod")
    ada, ben = [await Person.sign_up(server.base_url, h) for h in ("ada", "ben")]
    # ada: a two-day limit, a one-day suspension over it.
    await limit(mod, "ada", until=_in(timedelta(days=2)))
    await suspend(mod, "ada", until=_in(timedelta(days=1)))
    # ben: a one-hour limit that ends while a longer suspension holds.
    await limit(mod, "ben", until=_in(timedelta(hours=1)))
    await suspend(mod, "ben", until=_in(timedelta(days=1)))

    server.node.clock.advance(timedelta(days=1, minutes=1))
    await sweeps(server)
    ada = await Person.sign_in(server.base_url, "ada")
    assert (await ada.call("GET", "/me", 200))["state"] == "limited"
    ben = await Person.sign_in(server.base_url, "ben")
    assert (await ben.call("GET", "/me", 200))["state"] == "active"
    # The end of ben's limit is logged and told, as any limit's end.
    unsuspended, unlimited = (await ben.call("GET", "/me/notifications", 200))[:2]
    assert unsuspended["kind"] == "unsuspended" and "still_limited" not in unsuspended["data"]
    told = (unlimited["kind"], unlimited["data"]["reason"])
    assert told == ("unlimited", "The limit ended during the suspension")
    assert [a for a, _ in await _audited(mod, ben)] == ["unsuspend", "unlimit", "suspend", "limit"]

    server.node.clock.advance(timedelta(days=1))
    await sweeps(server)
    assert (await ada.call("GET", "/me", 200))["state"] == "active"
    await ada.call("POST", "/posts", 201, json={"text": "Both over"})
    for person in (mod, ada, ben):
        await person.close()


async def test_an_overturned_appeal_lifts_only_what_its_action_imposed(
    server: ServerThread,
) -> None:
    mod, mia = await admin(server, "mod"), await admin(server, "mia")
    ada, ben, cat = [await Person.sign_up(server.base_url, h) for h in ("ada", "ben", "cat")]

    # ada appeals her first suspension, long over, while a second one holds: it stays.
    first = (await suspend(mod, "ada"))["notice"]["id"]  # type: ignore[index]
    await mod.call("POST", "/admin/accounts/ada/unsuspend", 200, json={"reason": "Served"})
    await suspend(mod, "ada", reason="Again")
    await _decide(mia, await _appeal(ada, first))
    assert (await sign_in_answer(server.base_url, "ada")).status_code == 403

    # ben's limit, overturned while a suspension holds it: it does not come back after it.
    limited = (await limit(mod, "ben"))["notice"]["id"]  # type: ignore[index]
    await suspend(mod, "ben")
    await _decide(mia, await _appeal(ben, limited))
    assert (await sign_in_answer(server.base_url, "ben")).status_code == 403  # still suspended
    done = await mod.call("POST", "/admin/accounts/ben/unsuspend", 200, json={"reason": "Done"})
    assert done["state"] == "active"
    assert ("unlimit", "suspended") in await _audited(mod, ben)

    # cat's suspension, overturned over her limit: the limit holds again.
    await limit(mod, "cat")
    suspended = (await suspend(mod, "cat"))["notice"]["id"]  # type: ignore[index]
    await _decide(mia, await _appeal(cat, suspended))
    cat = await Person.sign_in(server.base_url, "cat")
    assert (await cat.call("GET", "/me", 200))["state"] == "limited"
    for person in (mod, mia, ada, ben, cat):
        await person.close()


async def test_bots_follow_their_owner_back_to_the_limit(server: ServerThread) -> None:
    mod = await admin(server, "mod")
    owner = await Person.sign_up(server.base_url, "owner")
    for handle in ("owner_bot", "own_bot"):
        await make_bot(owner, handle)
    await limit(mod, "own_bot")  # a limit of its own
    await limit(mod, "owner")  # owner_bot limited with its owner
    own_bot = await token_for(owner, "own_bot", "posts:write")
    await suspend(mod, "owner")
    # The suspension takes both bots, the one limited on its own too: its token goes.
    await own_bot.refused("GET", "/me", 401, "invalid_token")

    await mod.call("POST", "/admin/accounts/owner/unsuspend", 200, json={"reason": "Served"})
    owner = await Person.sign_in(server.base_url, "owner")
    states = {b["handle"]: b["state"] for b in await owner.call("GET", "/me/bots", 200)}
    assert states == {"own_bot": "limited", "owner_bot": "limited"}
    # The owner's limit lifted: the bot limited with them is free, the other keeps its own.
    await mod.call("POST", "/admin/accounts/owner/unlimit", 200, json={"reason": "Enough"})
    states = {b["handle"]: b["state"] for b in await owner.call("GET", "/me/bots", 200)}
    assert states == {"own_bot": "limited", "owner_bot": "active"}
    for person in (mod, owner, own_bot):
        await person.close()


async def test_a_bots_own_suspension_and_its_owners_limit_end_each_on_their_own(
    server: ServerThread,
) -> None:
    mod = await admin(server, "mod")
    owner = await Person.sign_up(server.base_url, "owner")
    await make_bot(owner, "owner_bot")

    async def bot_state() -> str:
        (bot,) = await owner.call("GET", "/me/bots", 200)
        return str(bot["state"])

    await limit(mod, "owner")  # the bot limited with its owner...
    await mod.refused(
        "POST", "/admin/accounts/owner_bot/unlimit", 409, "owner_limited", json={"reason": "No"}
    )
    await suspend(mod, "owner_bot")  # ...and then suspended on its own
    await mod.call("POST", "/admin/accounts/owner/unlimit", 200, json={"reason": "Served"})
    assert await bot_state() == "suspended"  # the owner's limit ending is not its suspension's

    await limit(mod, "owner")
    await mod.call("POST", "/admin/accounts/owner_bot/unsuspend", 200, json={"reason": "Fine"})
    assert await bot_state() == "limited"  # back under its limited owner
    await mod.call("POST", "/admin/accounts/owner/unlimit", 200, json={"reason": "Again"})
    assert await bot_state() == "active"
    for person in (mod, owner):
        await person.close()


async def test_moderators_acting_at_once_on_one_account_change_it_once(
    server: ServerThread,
) -> None:
    """Each change of a restriction takes the account's row first: the others wait, then see
    it (a double click, two moderators on one report), never a second notice nor a 500."""
    mod = await admin(server, "mod")
    lee = await Person.sign_up(server.base_url, "lee")
    await limit(mod, "lee")
    body = {"rule": "spam", "reason": "Three clicks"}
    answers = await asyncio.gather(
        *(mod.http.post("/admin/accounts/lee/suspend", json=body) for _ in range(3))
    )
    got = sorted((r.status_code, r.json().get("code")) for r in answers)
    assert got == [(200, None), (409, "already_suspended"), (409, "already_suspended")]
    lifts = await asyncio.gather(
        *(mod.http.post("/admin/accounts/lee/unsuspend", json={"reason": "Back"}) for _ in range(3))
    )
    assert sorted(r.status_code for r in lifts) == [200, 409, 409]
    assert [a for a, _ in await _audited(mod, lee)] == ["unsuspend", "suspend", "limit"]
    lee = await Person.sign_in(server.base_url, "lee")
    assert (await lee.call("GET", "/me", 200))["state"] == "limited"
    for person in (mod, lee):
        await person.close()
