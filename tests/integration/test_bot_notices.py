"""A bot suspended or limited on its own is its owner's to hear of and to appeal: a bot has no
password and its tokens may not appeal, so without its owner nobody could. The owner is told
(`bot_restricted`), reads the bot's notice among their own (naming the bot), appeals it once,
and is told the decision; nobody else may appeal it, and a moderator who owns the bot may not
decide its appeal. On SQLite and PostgreSQL."""

from __future__ import annotations

from tests.support.clients import Person, make_bot, token_for, told
from tests.support.moderation import admin, limit, suspend
from tests.support.servers import ServerThread


async def bot_state(owner: Person) -> str:
    (bot,) = await owner.call("GET", "/me/bots", 200)
    return str(bot["state"])


async def test_an_owner_hears_of_reads_and_appeals_their_bots_limit(server: ServerThread) -> None:
    mod, reviewer = await admin(server, "mod"), await admin(server, "reviewer")
    owner, other = [await Person.sign_up(server.base_url, h) for h in ("owner", "other")]
    bot = await make_bot(owner, "owner_bot")
    reader = await token_for(owner, "owner_bot", "account:read")
    await limit(mod, "owner_bot")

    (notice,) = await owner.call("GET", "/me/notices", 200)
    assert notice["action"] == "limit" and notice["rule"] == "spam"
    assert notice["bot"] == {"id": bot["id"], "handle": "owner_bot"}
    assert await told(owner, "bot_restricted") == [
        {
            "bot": "owner_bot",
            "state": "limited",
            "notice_id": notice["id"],
            "rule": "spam",
            "until": None,
        }
    ]
    # The bot reads its own notice too (not naming itself), and nobody else has it.
    (own,) = await reader.call("GET", "/me/notices", 200)
    assert own["id"] == notice["id"] and own["bot"] is None
    assert await other.call("GET", "/me/notices", 200) == []
    body = {"notice_id": notice["id"], "text": "It only posts the weather"}
    await other.refused("POST", "/appeals", 404, "notice_not_found", json=body)

    await reader.refused("POST", "/appeals", 403, "insufficient_scope", json=body)  # no token
    appeal = await owner.call("POST", "/appeals", 201, json=body)
    await owner.refused("POST", "/appeals", 409, "already_appealed", json=body)
    # Moderators see whom a bot answers to where they find accounts.
    found = {a["handle"]: a["automated"] for a in await mod.call("GET", "/admin/accounts?q=o", 200)}
    assert found["owner_bot"] == {"owner": {"id": owner.id, "handle": "owner"}}
    assert found["owner"] is None and found["other"] is None
    (queued,) = await mod.call("GET", "/admin/appeals", 200)
    assert (queued["id"], queued["handle"]) == (appeal["id"], "owner_bot")
    assert queued["automated"] == {"owner": {"id": owner.id, "handle": "owner"}}
    decision = {"decision": "overturned", "reason": "Weather is fine"}
    await reviewer.call("POST", f"/admin/appeals/{appeal['id']}/decide", 200, json=decision)
    assert await bot_state(owner) == "active"
    (decided,) = await told(owner, "appeal_decided")
    assert (decided["decision"], decided["bot"]) == ("overturned", "owner_bot")
    (notice,) = await owner.call("GET", "/me/notices", 200)
    assert notice["appeal_decision"] == "overturned"
    for person in (mod, reviewer, owner, other, reader):
        await person.close()


async def test_a_moderator_does_not_decide_the_appeal_of_their_own_bot(
    server: ServerThread,
) -> None:
    mod, mia, cy = await admin(server, "mod"), await admin(server, "mia"), await admin(server, "cy")
    await make_bot(mia, "mia_bot")
    await suspend(mod, "mia_bot")
    (notice,) = await mia.call("GET", "/me/notices", 200)
    assert notice["action"] == "suspend" and notice["bot"]["handle"] == "mia_bot"
    body = {"notice_id": notice["id"], "text": "A bug, fixed now"}
    appeal = await mia.call("POST", "/appeals", 201, json=body)
    decide = f"/admin/appeals/{appeal['id']}/decide"
    decision = {"decision": "overturned", "reason": "Mine"}
    await mia.refused("POST", decide, 403, "cannot_decide_own_appeal", json=decision)
    await cy.call("POST", decide, 200, json={"decision": "upheld", "reason": "Still spam"})
    assert await bot_state(mia) == "suspended"
    # Lifted in the end: its owner is told, as of its suspension.
    await mod.call("POST", "/admin/accounts/mia_bot/unsuspend", 200, json={"reason": "Fixed"})
    assert await told(mia, "unsuspended") == [{"reason": "Fixed", "bot": "mia_bot"}]
    for person in (mod, mia, cy):
        await person.close()


async def test_an_owner_hears_of_and_appeals_the_removal_of_their_bots_post(
    server: ServerThread,
) -> None:
    mod, reviewer = await admin(server, "mod"), await admin(server, "reviewer")
    owner = await Person.sign_up(server.base_url, "owner")
    await make_bot(owner, "owner_bot")
    writer = await token_for(owner, "owner_bot", "posts:write", "posts:read")
    post = await writer.call("POST", "/posts", 201, json={"text": "Rain at noon"})
    removal = {"rule": "spam", "reason": "Posted forty times"}
    await mod.call("POST", f"/admin/posts/{post['id']}/remove", 200, json=removal)

    (removed,) = await told(owner, "post_removed")
    assert (removed["post_id"], removed["bot"], removed["rule"]) == (
        post["id"],
        "owner_bot",
        "spam",
    )
    (notice,) = await owner.call("GET", "/me/notices", 200)
    assert notice["id"] == removed["notice_id"] and notice["bot"]["handle"] == "owner_bot"
    body = {"notice_id": notice["id"], "text": "It was one forecast, retried by a bug"}
    appeal = await owner.call("POST", "/appeals", 201, json=body)
    decision = {"decision": "overturned", "reason": "A retry, not spam"}
    await reviewer.call("POST", f"/admin/appeals/{appeal['id']}/decide", 200, json=decision)
    shown = await owner.call("GET", "/accounts/owner_bot/posts", 200)
    assert [p["id"] for p in shown] == [post["id"]]
    for person in (mod, reviewer, owner, writer):
        await person.close()
