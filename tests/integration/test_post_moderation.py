"""Moderators remove one post: shown to nobody, its author told why (a notice quoting it and a
notification) and free to appeal; an appeal upheld shows it again. Logged, counted, and the same
for every author, admins included. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from tests.support.clients import Person, http_client, write_post
from tests.support.moderation import admin
from tests.support.servers import ServerThread, serve

SPAM = "Buy followers now at cheap.example, best prices"
REMOVAL = {"rule": "spam", "reason": "Advertising followers for sale"}


@pytest.fixture
async def server(database_url: str) -> AsyncIterator[ServerThread]:
    with serve(database_url=database_url, link_new_account_days=0) as running:
        yield running


async def test_a_removed_post_is_shown_nowhere_and_its_author_is_told_why(
    server: ServerThread,
) -> None:
    mod = await admin(server, "mod")
    seller, fan = [await Person.sign_up(server.base_url, h) for h in ("seller", "fan")]
    await fan.call("POST", "/accounts/seller/follow", 204)
    spam = await write_post(seller, SPAM)
    kept = await write_post(seller, "Also: a normal post")
    sid = (await seller.call("POST", "/spaces", 201, json={"title": "Deals"}))["id"]
    await seller.call("POST", f"/spaces/{sid}/pins", 204, json={"post_id": spam})
    report = {"target_type": "post", "target_id": spam, "rule": "spam", "comment": "An ad"}
    await fan.call("POST", "/reports", 201, json=report)
    (queued,) = await mod.call("GET", "/admin/reports?status=open", 200)
    assert (queued["post_text"], queued["post_state"], queued["target_handle"]) == (
        SPAM,
        "shown",
        "seller",
    )

    async with fan.events(sid) as room:
        await fan.call("POST", f"/spaces/{sid}/join", 200)
        await room.wait_for("snapshot")
        removed = await mod.call("POST", f"/admin/posts/{spam}/remove", 200, json=REMOVAL)
        changed = await room.wait_for("pins_changed")
        assert changed["data"] == {"post_ids": [], "by": "moderation"}
    notice = removed["notice"]
    assert (removed["post_id"], notice["action"], notice["rule"]) == (spam, "remove_post", "spam")
    assert "A post of yours (“Buy followers now at cheap.example" in notice["text"]
    assert "Advertising followers for sale" in notice["text"] and "appeal" in notice["text"]

    for reader in (fan, seller):
        assert [p["id"] for p in await reader.call("GET", "/timeline", 200)] == [kept]
        assert [p["id"] for p in await reader.call("GET", "/accounts/seller/posts", 200)] == [kept]
        assert await reader.call("GET", f"/spaces/{sid}/pins", 200) == []
    assert [n["id"] for n in await seller.call("GET", "/me/notices", 200)] == [notice["id"]]
    (told,) = await seller.call("GET", "/me/notifications", 200)
    assert (told["kind"], told["data"]) == (
        "post_removed",
        {"post_id": spam, "notice_id": notice["id"], "rule": "spam"},
    )
    # Moderators still read what was reported, and what became of it.
    (queued,) = await mod.call("GET", "/admin/reports?status=open", 200)
    assert (queued["post_text"], queued["post_state"]) == (SPAM, "removed")
    (entry, *_) = await mod.call("GET", "/admin/audit", 200)
    assert (entry["action"], entry["target_type"], entry["target_id"], entry["rule"]) == (
        "remove_post",
        "post",
        spam,
        "spam",
    )
    async with http_client(base_url=f"{server.base_url}/api/v1") as anonymous:
        actions = (await anonymous.get("/transparency")).json()["actions"]
    month = datetime.now(UTC).strftime("%Y-%m")
    removals = {"period": month, "action": "remove_post", "rule": "spam", "count": 1}
    assert removals | {"outcome": None} in actions
    for person in (mod, seller, fan):
        await person.close()


async def test_refusals_change_nothing(server: ServerThread) -> None:
    mod = await admin(server, "mod")
    ada = await Person.sign_up(server.base_url, "ada")
    hers = await write_post(ada, "Hello")
    own = await write_post(mod, "A moderator's own post")
    gone = await write_post(ada, "Deleted by me")
    await ada.call("DELETE", f"/posts/{gone}", 204)
    url = f"/admin/posts/{hers}/remove"
    await ada.refused("POST", f"/admin/posts/{own}/remove", 403, "moderators_only", json=REMOVAL)
    await mod.refused(
        "POST", f"/admin/posts/{own}/remove", 409, "cannot_moderate_own_post", json=REMOVAL
    )
    for missing in (gone, "no-such-post"):
        await mod.refused(
            "POST", f"/admin/posts/{missing}/remove", 404, "post_not_found", json=REMOVAL
        )
    await mod.refused("POST", url, 422, "invalid_rule", json={"rule": "Not A Rule!", "reason": "x"})
    await mod.refused("POST", url, 422, "invalid_reason", json={"rule": "spam", "reason": " "})
    assert await mod.call("GET", "/admin/audit", 200) == []
    assert len(await ada.call("GET", "/accounts/ada/posts", 200)) == 1
    await mod.call("POST", url, 200, json=REMOVAL)
    await mod.refused("POST", url, 409, "post_already_removed", json=REMOVAL)
    assert len(await mod.call("GET", "/admin/audit", 200)) == 1
    for person in (mod, ada):
        await person.close()


async def test_an_appeal_upheld_shows_the_post_again_and_admins_posts_are_not_exempt(
    server: ServerThread,
) -> None:
    mod, boss, cal = (
        await admin(server, "mod"),
        await admin(server, "boss"),
        await admin(server, "cal"),
    )
    first, second = await write_post(boss, SPAM), await write_post(boss, "Another ad")
    notices = [
        (await mod.call("POST", f"/admin/posts/{p}/remove", 200, json=REMOVAL))["notice"]
        for p in (first, second)
    ]
    assert await boss.call("GET", "/accounts/boss/posts", 200) == []
    appeals = [
        await boss.call("POST", "/appeals", 201, json={"notice_id": n["id"], "text": "Satire"})
        for n in notices
    ]
    # Nobody decides their own appeal, nor one of their own action: a third moderator does.
    decide = f"/admin/appeals/{appeals[0]['id']}/decide"
    overturn = {"decision": "overturned", "reason": "It was satire"}
    await boss.refused("POST", decide, 403, "cannot_decide_own_appeal", json=overturn)
    await mod.refused("POST", decide, 403, "cannot_review_own_action", json=overturn)
    await cal.call("POST", decide, 200, json=overturn)
    upheld = {"decision": "upheld", "reason": "An ad all the same"}
    await cal.call("POST", f"/admin/appeals/{appeals[1]['id']}/decide", 200, json=upheld)

    assert [p["id"] for p in await mod.call("GET", "/accounts/boss/posts", 200)] == [first]
    entry = (await mod.call("GET", "/admin/audit?action=restore_post", 200))[0]
    assert (entry["target_id"], entry["rule"], entry["actor_handle"]) == (first, "appeal", "cal")
    decided = [n for n in await boss.call("GET", "/me/notifications", 200)]
    assert [n["data"]["decision"] for n in decided if n["kind"] == "appeal_decided"] == [
        "upheld",
        "overturned",
    ]
    for person in (mod, boss, cal):
        await person.close()
