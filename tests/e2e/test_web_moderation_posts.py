"""Moderators remove a single post, in real Chromium: the reports queue shows a reported post's
words and its author, and removes it with a rule and a reason, resolving the report; the author
is notified, reads why on the Notices screen and appeals there; another moderator overturns the
appeal and the post is shown again. A reported space's recording is removed from the queue the
same way, and its host is told and appeals the same way.

The screenshots of the Notices screen and of the reports queue with a reported post are taken
here. A report on the moderator is shown as another moderator's to resolve.
"""

from __future__ import annotations

import re

from playwright.async_api import Locator, Page, expect

from parley.store.recordings import RecordingStore
from tests.e2e.a11y import Axe, check_a11y
from tests.e2e.browser import LaunchBrowser
from tests.e2e.moderation import follow_notification_to_notices
from tests.e2e.pages import button, open_page, person, shoot, sign_in
from tests.support.clients import Person
from tests.support.moderation import admin
from tests.support.servers import ServerThread

SPAM = "Buy followers at cheap.example"
REASON = "Selling followers is spam, whatever the price"
APPEAL = "It was a joke about how silly buying followers is."
EMPTY = "No moderation notices. If a moderator ever acts on your account or your posts"


def admin_tab(page: Page, name: str) -> Locator:
    return page.get_by_role("navigation", name="Admin sections").get_by_role("link", name=name)


async def post_ids(client: Person, handle: str) -> list[str]:
    return [p["id"] for p in await client.call("GET", f"/accounts/{handle}/posts", 200)]


async def remove_from_the_queue(mod: Page, axe: Axe) -> None:
    """The moderator reads the reported post in the queue and removes it, with a reason."""
    await mod.get_by_role("link", name="Admin", exact=True).click()
    await admin_tab(mod, "Reports").click()
    row = mod.get_by_role("row").filter(has_text=SPAM)
    # Its words, quoted as text, and who wrote them.
    await expect(row.locator("blockquote")).to_have_text(SPAM)
    await expect(row.get_by_role("link", name="@sam", exact=True)).to_have_attribute(
        "href", "#/u/sam"
    )
    await check_a11y(mod, axe, "admin: a reported post")
    await mod.mouse.move(640, 780)
    await shoot(mod, "admin-report-post")
    await button(row, "Remove post").click()
    await expect(button(row, "Remove post")).to_have_attribute("aria-expanded", "true")
    await expect(row.get_by_label("Rule", exact=True)).to_have_value("spam")
    await expect(row.get_by_label("Reason", exact=True)).to_be_focused()
    await row.get_by_label("Reason", exact=True).fill(REASON)
    await button(row, "Confirm removal").click()
    # Resolved as actioned: the open queue is empty, and the heading has the focus.
    await expect(mod.get_by_text("The queue is empty.")).to_be_visible()
    await expect(mod.get_by_role("heading", level=2, name="Reports")).to_be_focused()
    await expect(mod.locator("#announcements")).to_have_text(
        "Post removed and the report resolved as actioned"
    )


async def appeal_from_the_notification(sam: Page, axe: Axe) -> None:
    """Sam is told, follows the notification to Notices, reads why and appeals."""
    await follow_notification_to_notices(
        sam, "Unread: A moderator removed a post of yours under spam."
    )
    await expect(sam.get_by_role("heading", level=1, name="Notices")).to_be_focused()
    assert sam.url.endswith("#/notices")
    notice = sam.get_by_role("article", name="Post removed")
    await expect(notice).to_contain_text("Buy followers")  # the notice quotes the post
    await expect(notice.locator("dd code")).to_have_text("spam")
    await expect(notice.get_by_text(REASON, exact=True)).to_be_visible()
    await check_a11y(sam, axe, "notices")
    await notice.get_by_label("Your appeal").fill(APPEAL)
    await shoot(sam, "notices")
    await button(notice, "Send appeal").click()
    await expect(notice.get_by_text("Appeal sent.")).to_be_focused()
    # Once: the form is gone for good, the appeal waits for a moderator.
    await sam.reload()
    await expect(notice.get_by_text("Your appeal was received.")).to_be_visible()
    await expect(button(notice, "Send appeal")).to_have_count(0)


async def test_a_removed_post_is_explained_appealed_and_restored(
    server: ServerThread, launch: LaunchBrowser, axe_source: Axe
) -> None:
    base = server.base_url
    moderator, second = await admin(server, "mod"), await admin(server, "mia")
    rita = await Person.sign_up(base, "rita", "Rita Reporter")
    browser = await launch(None)
    sam = await person(browser, base, "sam", "Sam Seller")
    author = await Person.sign_in(base, "sam")
    spam = await author.call("POST", "/posts", 201, json={"text": SPAM})
    report = {"target_type": "post", "target_id": spam["id"], "rule": "spam"}
    await rita.call("POST", "/reports", 201, json={**report, "comment": "Selling followers"})
    mod = await open_page(browser, base)
    await sign_in(mod, "mod")
    # A moderator's own Notices screen, with nothing done to them, says so.
    await mod.goto(f"{base}/#/notices")
    await expect(mod.get_by_role("list", name="Notices")).to_contain_text(EMPTY)

    await remove_from_the_queue(mod, axe_source)
    [resolved] = await moderator.call("GET", "/admin/reports?status=actioned", 200)
    assert (resolved["target_id"], resolved["status"]) == (spam["id"], "actioned")
    assert spam["id"] not in await post_ids(rita, "sam")

    await appeal_from_the_notification(sam, axe_source)

    # Another moderator overturns it (the one who removed the post may not): it is back.
    [appeal] = await second.call("GET", "/admin/appeals?open=true", 200)
    assert appeal["text"] == APPEAL
    decision = {"decision": "overturned", "reason": "A joke, not an offer"}
    await second.call("POST", f"/admin/appeals/{appeal['id']}/decide", 200, json=decision)
    assert spam["id"] in await post_ids(rita, "sam")

    # Sam sees it back on her profile, and the decision from the profile's link to Notices.
    await sam.get_by_role("link", name="@sam (your profile)").click()
    await expect(sam.get_by_role("list", name="Posts by @sam")).to_contain_text(SPAM)
    await sam.get_by_role("link", name="Moderation notices").click()
    await expect(sam.get_by_role("article", name="Post removed")).to_contain_text(
        "A moderator accepted your appeal: your post is shown again."
    )
    for client in (moderator, second, rita, author):
        await client.close()


async def _recorded(server: ServerThread, space_id: str, host_id: str) -> None:
    """The space has a recording (its row, as the recorder's first segment makes it): what the
    removal acts on; its audio is not what this test is about."""
    async with server.node.db.write() as conn:
        await RecordingStore(conn).begin(space_id, host_id, server.node.clock.now())


async def test_a_reported_spaces_recording_is_removed_from_the_queue_and_appealed(
    server: ServerThread, launch: LaunchBrowser
) -> None:
    base = server.base_url
    moderator = await admin(server, "mod")
    rita = await Person.sign_up(base, "rita", "Rita Reporter")
    browser = await launch(None)
    hana = await person(browser, base, "hana", "Hana Host")
    host = await Person.sign_in(base, "hana")
    space = await host.call("POST", "/spaces", 201, json={"title": "Loud hour"})
    await host.call("POST", f"/spaces/{space['id']}/end", 200)
    server.call(_recorded(server, space["id"], host.id))
    report = {"target_type": "space", "target_id": space["id"], "rule": "harassment"}
    await rita.call("POST", "/reports", 201, json={**report, "comment": "Shouting"})
    on_mod = {"target_type": "account", "target_id": "mod", "rule": "spam"}
    await rita.call("POST", "/reports", 201, json={**on_mod, "comment": "Moderates badly"})

    mod = await open_page(browser, base)
    await sign_in(mod, "mod")
    await mod.get_by_role("link", name="Admin", exact=True).click()
    await admin_tab(mod, "Reports").click()
    # The report on the moderator is another's to resolve: the row says so, with no buttons.
    mine = mod.get_by_role("row").filter(has_text="Moderates badly")
    await expect(mine).to_contain_text("About you: another moderator resolves it.")
    await expect(mine.get_by_role("button")).to_have_count(0)
    row = mod.get_by_role("row").filter(has_text="Shouting")
    await button(row, "Remove recording").click()
    # Ending the space has a form of its own in the row, hidden.
    form = row.get_by_role("form", name=re.compile(r"^Remove recording reported in report"))
    await expect(form.get_by_label("Rule", exact=True)).to_have_value("harassment")
    await form.get_by_label("Reason", exact=True).fill("Threats against a speaker")
    await button(form, "Confirm removal").click()
    await expect(mod.locator("#announcements")).to_have_text(
        "Recording removed and the report resolved as actioned"
    )
    await expect(row).to_have_count(0)
    await expect(mine).to_have_count(1)
    await rita.refused("GET", f"/spaces/{space['id']}/recording", 410, "recording_deleted")

    # Hana is told, reads why on Notices and appeals there.
    await follow_notification_to_notices(
        hana, "Unread: A moderator removed the recording of your space under harassment."
    )
    notice = hana.get_by_role("article", name="Recording removed")
    await expect(notice).to_contain_text("Loud hour")  # the notice names the space
    await expect(notice.get_by_text("Threats against a speaker", exact=True)).to_be_visible()
    await notice.get_by_label("Your appeal").fill("Nobody was threatened: it was a quiz.")
    await button(notice, "Send appeal").click()
    await expect(notice.get_by_text("Appeal sent.")).to_be_focused()
    [appeal] = await moderator.call("GET", "/admin/appeals?open=true", 200)
    assert appeal["text"] == "Nobody was threatened: it was a quiz."
    for client in (moderator, rita, host):
        await client.close()
