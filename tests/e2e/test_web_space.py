"""The web client end to end: people using only the page, in real Chromium, through a whole space.

Each person has a browser of their own (Chromium's fake microphone plays one WAV per process):
the host's plays 440 Hz, the speaker's 880 Hz, the listener has none. Every step goes through the
page as a person would, found by role and accessible name (the names issue 4 fixes); what a page
hears is measured with probe.js's Web Audio analyser on the room's current media connection
(`window.parleyRoom.audio.connection`, the liveAudio state the page keeps).

The screenshots of the home page and of the space as host and as listener are taken here.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from playwright.async_api import Locator, expect

from tests.e2e.browser import LaunchBrowser, analyse, describe, heard, silent, until_levels
from tests.e2e.pages import (
    ROOM_AUDIO,
    audience_member,
    button,
    connection,
    expect_reminder,
    in_days,
    join_from_home,
    lose_media,
    person,
    shoot,
    space_id,
    stage_member,
    start_space,
    text_lines,
    until_media,
)
from tests.support.clients import Person
from tests.support.servers import ServerThread


async def test_host_speaker_and_listener_through_a_whole_space(
    server: ServerThread, launch: LaunchBrowser, tones: dict[int, Path]
) -> None:
    base = server.base_url
    title = "Tuning forks at dawn"
    host, bea, lou = await asyncio.gather(
        person(await launch(tones[440]), base, "hana", "Hana Host"),
        person(await launch(tones[880]), base, "bea", "Bea Speaker"),
        person(await launch(None), base, "lou", "Lou Listener"),
    )
    # Something scheduled, so the home page shows both kinds of space.
    planner = await Person.sign_up(base, "omar", "Omar")
    friday = await planner.call(
        "POST",
        "/spaces",
        201,
        json={"title": "Friday open mic", "scheduled_start": in_days(3)},
    )
    await planner.close()

    await start_space(host, title)
    await expect(button(host, "End space")).to_be_visible()
    await expect(host.get_by_label("listeners")).to_have_text("0")

    # Lou sees it live on the home page, with the host's avatar on stage, and can set a reminder.
    await lou.get_by_role("link", name="Home", exact=True).click()
    card = lou.get_by_role("article", name=title)
    await expect(card).to_contain_text("Hana Host")
    await expect(card.get_by_role("list", name=re.compile("On stage: hana"))).to_be_visible()
    on_card = await _avatar_look(card.locator(".faces .avatar").first)
    scheduled = lou.get_by_role("article", name="Friday open mic")
    await button(scheduled, "Remind me").click()
    await expect_reminder(scheduled, True)
    # The reminder is kept by the server: a reload still shows it, and it can be taken back.
    await lou.reload()
    await expect_reminder(scheduled, True)
    # Its date and "Reminder set", each pill whole: not broken onto two lines inside it.
    badges = scheduled.locator(".card-top .badge")
    await expect(badges).to_have_count(2)
    assert [await text_lines(badge) for badge in await badges.all()] == [1, 1]
    await shoot(lou, "home")
    await button(scheduled, "Cancel reminder").click()
    await expect_reminder(scheduled, False)
    await lou.reload()
    await expect_reminder(scheduled, False)
    # The space's own page says the same, and sets it as the card does.
    await lou.goto(f"{base}/#/spaces/{friday['id']}")
    await expect(lou.get_by_role("heading", level=1, name="Friday open mic")).to_be_visible()
    await button(lou, "Remind me").click()
    await expect_reminder(lou.locator("main"), True)
    await lou.reload()
    await expect_reminder(lou.locator("main"), True)

    await join_from_home(bea, title)
    await join_from_home(lou, title)
    # Hana's avatar is the same on the card as on the stage: her initials, her colour (the card
    # showed "HA" in another colour, from her handle, as the stage drew "HH" from her name).
    on_stage = await _avatar_look(stage_member(lou, "hana").locator(".avatar"))
    assert on_card == on_stage and on_card[0] == "HH", (on_card, on_stage)
    await expect(host.get_by_label("listeners")).to_have_text("2")
    await expect(audience_member(host, "lou")).to_be_visible()
    await until_media(lou, send=False)
    # Nothing has happened yet in Lou's room: the activity card says so, until something does.
    nothing_yet = lou.get_by_role("log", name="Activity").get_by_text("Nothing yet")
    await expect(nothing_yet).to_be_visible()

    # Bea asks to speak; the host approves from the request queue; Bea's page starts sending.
    await button(bea, "Request to speak").click()
    requests = host.get_by_role("list", name="Requests")
    await button(requests.get_by_role("listitem").filter(has_text="@bea"), "Approve").click()
    await expect(stage_member(lou, "bea")).to_be_visible()
    await expect(lou.get_by_label("listeners")).to_have_text("1")
    await until_media(bea, send=True)
    await button(bea, "Unmute").click()
    await expect(stage_member(host, "bea")).to_contain_text("Mic on")

    # Lou hears Bea (880 Hz) and not the host, who is still muted.
    await analyse(lou, ROOM_AUDIO)
    heard_bea = await until_levels(lou, lambda v: heard(v, 880) and silent(v, 440), timeout=15)
    print(f"\nLou hears Bea: {describe(heard_bea)}")
    # This server makes no live captions (the tests' default; its status said so long before
    # now): no Captions toggle under the stage, nor a box that would stay empty.
    stage = lou.get_by_role("region", name="On stage")
    await expect(stage).to_be_visible()
    await expect(stage.get_by_role("checkbox", name="Captions")).to_have_count(0)
    await expect(lou.locator(".captions")).to_be_hidden()
    # The speaking ring follows active_speakers.
    await expect(stage_member(lou, "bea")).to_have_class(re.compile("is-speaking"), timeout=10_000)
    # Were the node to hang Bea's audio up as dead, Lou would see her reconnecting, not "Mic
    # on" with nothing heard; connected again, "Mic on". (Told as the room tells it, through the
    # space's events; the room's side is tests/integration/test_media.py.)
    sid = await space_id(lou)
    bea_id = await lou.evaluate(
        "[...parleyRoom.people.values()].find((p) => p.handle === 'bea').account_id"
    )
    server.call(server.node.presence.report_speaker_audio(sid, bea_id, False))
    await expect(stage_member(lou, "bea")).to_contain_text("Reconnecting…")
    await expect(stage_member(lou, "bea")).not_to_contain_text("Mic on")
    server.call(server.node.presence.report_speaker_audio(sid, bea_id, True))
    await expect(stage_member(lou, "bea")).to_contain_text("Mic on")

    # Reactions float up for everyone: Lou's reaches the host, Bea's reaches Lou.
    await button(lou, "React 👏").click()
    await expect(host.locator(".reaction-float", has_text="👏")).to_be_attached()
    await button(bea, "React 🔥").click()
    await expect(lou.locator(".reaction-float", has_text="🔥")).to_be_attached()
    await expect(lou.get_by_role("log", name="Activity")).to_contain_text("@bea reacted 🔥")
    await expect(nothing_yet).to_be_hidden()

    # The host pins a post of hers: everyone sees it beside the stage, its link the redirector.
    hana = await Person.sign_in(base, "hana")
    agenda = "Tonight: A440 for everyone, then open mic. Chart: https://example.org/forks"
    await hana.call("POST", "/posts", 201, json={"text": agenda})
    await hana.close()
    await host.get_by_text("Pin a post", exact=True).click()
    await expect(host.get_by_label("Your post").locator("option")).to_have_count(1)
    await button(host, "Pin").click()
    pinned = lou.get_by_role("list", name="Pinned posts")
    await expect(pinned).to_contain_text("Tonight: A440 for everyone")
    chart = pinned.get_by_role("link", name="https://example.org/forks")
    await expect(chart).to_have_attribute("href", re.compile(r"^/l/[0-9a-f]+$"))
    await expect(lou.get_by_role("button", name="Unpin")).to_have_count(0)
    await expect(lou.get_by_text("Pin a post", exact=True)).to_be_hidden()
    await shoot(host, "space-host")
    await shoot(lou, "space-listener")
    await button(host.get_by_role("list", name="Pinned posts"), "Unpin").click()
    await expect(pinned.get_by_role("listitem")).to_have_count(0)
    await expect(lou.get_by_role("heading", name="Pinned")).to_be_hidden()

    # The host makes Bea a cohost, then mutes her: Lou stops hearing her.
    await button(stage_member(host, "bea"), "Make cohost").click()
    await expect(stage_member(lou, "bea")).to_contain_text("Cohost")
    await button(stage_member(host, "bea"), "Mute").click()
    await expect(button(bea, "Unmute")).to_be_visible()
    await until_levels(lou, lambda v: silent(v, 880), timeout=5)

    # Lou asks to speak and the host denies it; Lou can ask again.
    await button(lou, "Request to speak").click()
    await button(requests.get_by_role("listitem").filter(has_text="@lou"), "Deny").click()
    await expect(button(lou, "Request to speak")).to_be_visible()
    await expect(requests.get_by_role("listitem").filter(has_text="@lou")).to_have_count(0)

    # Invite to speak: Lou declines, is invited again and accepts, then is moved back.
    await button(audience_member(host, "lou"), "Invite to speak").click()
    await button(lou, "Decline").click()
    await expect(button(audience_member(host, "lou"), "Invite to speak")).to_be_visible()
    await button(audience_member(host, "lou"), "Invite to speak").click()
    await button(lou, "Accept").click()
    await expect(stage_member(host, "lou")).to_be_visible()
    await until_media(lou, send=True)
    await button(stage_member(host, "lou"), "Move to audience").click()
    await expect(audience_member(host, "lou")).to_be_visible()
    await expect(button(lou, "Request to speak")).to_be_visible()

    # The host removes Lou, who is told and cannot come back; then ends the space.
    await button(audience_member(host, "lou"), "Remove").click()
    await expect(
        lou.get_by_role("heading", name="You were removed from this space")
    ).to_be_visible()
    await expect(host.get_by_label("listeners")).to_have_text("0")
    await button(host, "End space").click()
    await expect(host.get_by_role("heading", name="This space has ended")).to_be_visible()
    await expect(bea.get_by_role("heading", name="This space has ended")).to_be_visible()


async def test_a_listener_resumes_events_and_audio_after_a_network_drop(
    server: ServerThread, launch: LaunchBrowser, tones: dict[int, Path]
) -> None:
    base = server.base_url
    title = "Signals and noise"
    host, lou = await asyncio.gather(
        person(await launch(tones[440]), base, "hana", "Hana Host"),
        person(await launch(None), base, "lou", "Lou Listener"),
    )
    await start_space(host, title)
    await until_media(host, send=True)
    await button(host, "Unmute").click()
    await join_from_home(lou, title)
    await until_media(lou, send=False)
    await analyse(lou, ROOM_AUDIO)
    await until_levels(lou, lambda v: heard(v, 440), timeout=15)
    await lou.evaluate("window.before = parleyRoom.audio.connection")

    # The network goes. While it is gone the host renames the space, and the server lets Lou go.
    # Offline here cuts HTTP and WebSockets, not WebRTC's UDP on the loopback: the media that
    # would go silent is reported lost as the server's watchdog reports it.
    await lou.context.set_offline(True)
    await expect(connection(lou)).to_contain_text("Offline")
    await lose_media(server, host, "lou")
    await expect(lou.locator(".audio-lost")).to_have_text("Reconnecting audio…")
    await expect(lou.locator(".audio-lost")).to_be_visible()
    await host.get_by_text("Edit title").click()
    await host.get_by_label("New title").fill("Signals, noise and a drop")
    await button(host, "Save title").click()
    await expect(host.get_by_role("heading", level=1)).to_have_text("Signals, noise and a drop")
    await expect(audience_member(host, "lou")).to_have_count(0, timeout=10_000)
    await expect(lou.get_by_role("heading", level=1)).to_have_text(title)  # nothing yet

    # Back online: the page resumes from its last event, so the rename shows, and it rejoins.
    await lou.context.set_offline(False)
    await expect(lou.get_by_role("heading", level=1)).to_have_text("Signals, noise and a drop")
    await expect(connection(lou)).to_have_text("Connected")
    await expect(lou.get_by_role("log", name="Activity")).to_contain_text(
        "Title changed to “Signals, noise and a drop”"
    )
    await expect(audience_member(host, "lou")).to_be_visible()
    # No event lost or repeated: the page's cursor meets the server's sequence number.
    server_seq = (
        await (await lou.request.get(f"{base}/api/v1/spaces/{await space_id(lou)}")).json()
    )["seq"]
    await lou.wait_for_function(f"() => parleyRoom.feed.lastSeq >= {server_seq}", timeout=10_000)

    # Audio resumes on a new connection.
    await until_media(lou, send=False, previous="before")
    await expect(lou.locator(".audio-lost")).to_be_hidden()
    await analyse(lou, ROOM_AUDIO)
    resumed = await until_levels(lou, lambda v: heard(v, 440), timeout=15)
    print(f"\nLou hears the host again after the drop: {describe(resumed)}")


async def _avatar_look(avatar: Locator) -> list[str]:
    """An avatar's letters and colour, as a person sees them."""
    look: list[str] = await avatar.evaluate(
        "a => [a.textContent, getComputedStyle(a).backgroundColor]"
    )
    return look
