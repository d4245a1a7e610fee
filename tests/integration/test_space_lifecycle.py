"""A whole space through the real HTTP API and event WebSocket, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio

from tests.support.clients import Person
from tests.support.servers import ServerThread


async def people(server: ServerThread, *handles: str) -> list[Person]:
    return [await Person.sign_up(server.base_url, h) for h in handles]


def assert_gapless(events: list[dict[str, object]]) -> None:
    seqs = [int(str(e["seq"])) for e in events]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), seqs


async def test_a_space_from_start_to_handover(server: ServerThread) -> None:
    host, co1, co2, asker, invitee, troll, watcher = await people(
        server, "host", "co1", "co2", "asker", "invitee", "troll", "watcher"
    )
    space = await host.call("POST", "/spaces", 201, json={"title": "  Morning show  "})
    sid = space["id"]
    assert space["state"] == "live" and space["title"] == "Morning show"
    assert space["host"]["handle"] == "host"

    for person in (co1, co2, asker, invitee, troll, watcher):
        joined = await person.call("POST", f"/spaces/{sid}/join", 200)
        assert joined["role"] == "listener"

    async with watcher.events(sid) as stream:
        snapshot = await stream.wait_for("snapshot")
        assert snapshot["data"]["listener_count"] == 6
        start_seq = snapshot["seq"]

        await host.call("POST", f"/spaces/{sid}/cohosts/co1", 204)
        await host.call("POST", f"/spaces/{sid}/cohosts/co2", 204)
        await asker.call("POST", f"/spaces/{sid}/hand", 204)
        await co1.call("POST", f"/spaces/{sid}/speakers/asker", 204)  # approve
        await co2.call("POST", f"/spaces/{sid}/speakers/invitee", 204)  # invite
        await invitee.call("POST", f"/spaces/{sid}/invitation/accept", 204)
        await asker.call("POST", f"/spaces/{sid}/unmute", 204)
        await co1.refused("POST", f"/spaces/{sid}/mute/host", 403, "cannot_target_host")
        await host.call("POST", f"/spaces/{sid}/mute/asker", 204)
        await co1.call("POST", f"/spaces/{sid}/remove/troll", 204)
        await troll.refused("POST", f"/spaces/{sid}/join", 403, "removed_from_space")

        shown = await watcher.call("GET", f"/spaces/{sid}", 200)
        assert {c["handle"] for c in shown["cohosts"]} == {"co1", "co2"}
        assert {s["handle"] for s in shown["speakers"]} == {"asker", "invitee"}
        assert shown["listener_count"] == 1  # only the watcher is left in the audience

        # The host's only socket drops; after the grace period the longest-serving cohost
        # (co1, made cohost first) takes over.
        async with host.events(sid):
            await stream.wait_for("participant_removed")
        await stream.wait_for("host_absent", timeout=10)
        changed = await stream.wait_for("host_changed", timeout=10)
        assert changed["data"]["handle"] == "co1"

    expected = [
        "role_changed",  # co1
        "role_changed",  # co2
        "hand_changed",
        "role_changed",  # asker approved
        "speaker_invited",
        "role_changed",  # invitee accepted
        "mic_changed",  # asker unmutes
        "mic_changed",  # host mutes asker
        "participant_removed",
        "host_absent",
        "host_changed",
    ]
    assert stream.types() == expected
    assert_gapless(stream.events)
    assert stream.events[0]["seq"] == start_seq + 1

    after = await co1.call("GET", f"/spaces/{sid}", 200)
    assert after["host"]["handle"] == "co1"
    assert [c["handle"] for c in after["cohosts"]] == ["co2"]
    await host.refused("POST", f"/spaces/{sid}/end", 403, "not_in_space")
    ended = await co1.call("POST", f"/spaces/{sid}/end", 200)
    assert ended["state"] == "ended"


async def test_a_host_who_stepped_away_ends_their_space_without_coming_back(
    server: ServerThread,
) -> None:
    host, fan = await people(server, "host", "fan")
    sid = (await host.call("POST", "/spaces", 201, json={"title": "Gone"}))["id"]
    await fan.call("POST", f"/spaces/{sid}/join", 200)
    async with fan.events(sid) as stream:
        await stream.wait_for("snapshot")
        await host.call("POST", f"/spaces/{sid}/leave", 204)
        await stream.wait_for("host_absent")
        ended = await host.call("POST", f"/spaces/{sid}/end", 200)
        assert ended["state"] == "ended"
        await stream.wait_for("space_ended")
    await host.refused("POST", f"/spaces/{sid}/end", 409, "space_over")


async def test_reconnect_with_since_gets_exactly_the_missed_events(server: ServerThread) -> None:
    host, fan, other = await people(server, "host", "fan", "other")
    sid = (await host.call("POST", "/spaces", 201, json={"title": "Resume"}))["id"]
    await fan.call("POST", f"/spaces/{sid}/join", 200)

    async with fan.events(sid) as first:
        await first.wait_for("snapshot")
        await other.call("POST", f"/spaces/{sid}/join", 200)
        seen = await first.wait_for("participant_joined", handle="other")
    last_seen = seen["seq"]

    # While the fan is away, three things happen.
    await other.call("POST", f"/spaces/{sid}/hand", 204)
    await other.call("POST", f"/spaces/{sid}/reactions", 204, json={"emoji": "🔥"})
    await host.call("PATCH", f"/spaces/{sid}", 200, json={"title": "Resumed"})

    async with fan.events(sid, since=last_seen) as second:
        await second.wait_for("space_updated")
        await asyncio.sleep(0.2)  # nothing more should arrive
    assert [e["seq"] for e in second.received] == [last_seen + 1, last_seen + 2, last_seen + 3]
    assert second.types() == ["hand_changed", "reaction", "space_updated"]

    # A cursor from the future (or one too old) gets a snapshot instead.
    async with fan.events(sid, since=10_000) as third:
        snap = await third.wait_for("snapshot")
        assert snap["data"]["title"] == "Resumed"
