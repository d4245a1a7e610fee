"""Finding 8.7: an account the host blocked was refused the join, yet its event socket still got
the space's snapshot and live events. It is kept out of the socket like a removed participant:
an error naming why and close code 4003, with nothing of the space sent."""

from __future__ import annotations

from tests.support.clients import Person
from tests.support.servers import ServerThread

CLOSE_KEPT_OUT = 4003


async def test_a_blocked_account_gets_nothing_of_the_hosts_space(server: ServerThread) -> None:
    host = await Person.sign_up(server.base_url, "host")
    mallory = await Person.sign_up(server.base_url, "mallory")
    await host.call("POST", "/accounts/mallory/block", 204)
    sid = (await host.call("POST", "/spaces", 201, json={"title": "Not for Mallory"}))["id"]
    await mallory.refused("POST", f"/spaces/{sid}/join", 403, "blocked_by_host")

    async with mallory.events(sid) as stream:
        assert await stream.wait_closed() == CLOSE_KEPT_OUT
    assert stream.received == [{"type": "error", "code": "blocked_by_host"}]

    # Unblocked, the same account follows the space like anyone.
    await host.call("DELETE", "/accounts/mallory/block", 204)
    async with mallory.events(sid) as stream:
        snapshot = await stream.wait_for("snapshot")
        assert snapshot["data"]["title"] == "Not for Mallory"
    for person in (host, mallory):
        await person.close()


async def test_blocking_someone_watching_closes_their_socket_at_once(server: ServerThread) -> None:
    """Watching without joining leaves nobody to expel: the block itself closes the socket."""
    host = await Person.sign_up(server.base_url, "host")
    mallory = await Person.sign_up(server.base_url, "mallory")
    sid = (await host.call("POST", "/spaces", 201, json={"title": "Open, for now"}))["id"]
    async with mallory.events(sid) as stream:
        await stream.wait_for("snapshot")
        await host.call("POST", "/accounts/mallory/block", 204)
        assert await stream.wait_closed(timeout=2) == CLOSE_KEPT_OUT
        await host.call("PATCH", f"/spaces/{sid}", 200, json={"title": "Closed to Mallory"})
    assert not [e for e in stream.events if e["type"] == "space_updated"]
    for person in (host, mallory):
        await person.close()
