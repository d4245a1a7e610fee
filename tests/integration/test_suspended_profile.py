"""While an account is suspended, what it made is kept from everyone, as its spaces are: its
profile and its posts answer 404 `account_unavailable` (saying it is suspended, not that it
never was), and its posts are in nobody's timeline nor in any space's pins. Lifting the
suspension brings it all back as it was: nothing was deleted. Moderators still see the posts in
their queue. On SQLite and PostgreSQL."""

from __future__ import annotations

from tests.support.clients import Person
from tests.support.moderation import admin, suspend
from tests.support.servers import ServerThread


async def texts(person: Person, path: str) -> list[str]:
    return [p["text"] for p in await person.call("GET", path, 200)]


async def test_a_suspended_accounts_profile_and_posts_are_kept_from_everyone(
    server: ServerThread,
) -> None:
    mod = await admin(server, "mod")
    ada, ben = [await Person.sign_up(server.base_url, h) for h in ("ada", "ben")]
    await ben.call("POST", "/accounts/ada/follow", 204)
    said = await ada.call("POST", "/posts", 201, json={"text": "Come to my space"})
    await ben.call("POST", "/posts", 201, json={"text": "Ben here"})
    space = (await ben.call("POST", "/spaces", 201, json={"title": "Ben live"}))["id"]
    await ben.call("POST", f"/spaces/{space}/pins", 204, json={"post_id": said["id"]})
    assert await texts(ben, "/timeline") == ["Ben here", "Come to my space"]

    await suspend(mod, "ada")
    for path in ("/accounts/ada", "/accounts/ada/posts"):
        problem = await ben.refused("GET", path, 404, "account_unavailable")
        assert problem["title"] == "@ada is suspended"
    assert await texts(ben, "/timeline") == ["Ben here"]
    assert await ben.call("GET", f"/spaces/{space}/pins", 200) == []
    # Reported, it stays before the moderators, as it is.
    await ben.call(
        "POST",
        "/reports",
        201,
        json={"target_type": "post", "target_id": said["id"], "rule": "spam", "comment": ""},
    )
    (queued,) = await mod.call("GET", "/admin/reports", 200)
    assert queued["post_text"] == "Come to my space"

    await mod.call("POST", "/admin/accounts/ada/unsuspend", 200, json={"reason": "A mistake"})
    assert (await ben.call("GET", "/accounts/ada", 200))["handle"] == "ada"
    assert await texts(ben, "/accounts/ada/posts") == ["Come to my space"]
    assert await texts(ben, "/timeline") == ["Ben here", "Come to my space"]
    assert [p["id"] for p in await ben.call("GET", f"/spaces/{space}/pins", 200)] == [said["id"]]
    for person in (mod, ada, ben):
        await person.close()
