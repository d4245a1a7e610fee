"""A live space that six people use through the real API of two nodes (PostgreSQL and Redis), in
any order Hypothesis finds: join, leave, raise or lower a hand, invite, approve, accept, decline,
step down, make or unmake a cohost, mute, unmute, remove, react, retitle; each through their own
node, while event sockets open (fresh, or resuming with `since=N`) and close on the other, a
moderator suspends some of them, and time passes (both nodes' clocks moved, their sweeps run).

The rules of who may do what are the core's, checked on their own in
tests/unit/test_space_properties.py; this machine checks what the nodes promise around them,
after every step, once the events have arrived:

- an answer is a 2xx, or a 4xx problem document with a code that changed nothing;
- both nodes show the same space, the stage within its limit and one host;
- a person removed stays out (403 `removed_from_space`), their socket closed with 4003;
- a person suspended is out of the room (a host replaced, or the space over) and every socket of
  theirs is closed with 4401, on both nodes, by the time the step's events have arrived;
- every open socket, on either node, fresh or resumed, has had every event in order, and the room
  it draws by applying them as the web client does (`web/js/space/updates.js`: the snapshot, the
  listeners fetched after it, then the events) is the room as it is: who is there in which role,
  mics, raised hands, invitations, the listener count, the title, whether the host is present;
- time takes out nobody with a socket open, on either node, and past the wait for a first
  connection and the presence timeout everyone else but the host (a join alone holds nobody);
  past the grace period a host without one is replaced by a cohost, or the space ends, and
  every socket is closed with 4002.
"""

from __future__ import annotations

from contextlib import ExitStack
from datetime import timedelta
from functools import partial
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from websockets.sync.client import connect

from tests.support.clients import TLS
from tests.support.clients import Person as SignedUp
from tests.support.moderation import admin
from tests.support.rooms import Member, Room, Watch, until
from tests.support.servers import ServerThread, two_nodes

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

PEOPLE = 6
STAGE_SIZE = 3  # host and two more: small enough for the limit to be met
# What a socket of a suspended account is told, whichever check turns it away first.
SIGNED_OUT = {"account_suspended", "session_revoked", "invalid_token"}
CONNECT_WAIT, PRESENCE_TIMEOUT, HOST_GRACE = 10, 30, 60
SWEEP_SECONDS = 5
# Past a join ticket's life, the presence timeout and the host's grace, with sweeps to spare.
LONG_WAIT = 100
who = st.integers(0, PEOPLE - 1)
SELF_ACTS = [
    ("POST", "hand"),
    ("DELETE", "hand"),
    ("POST", "invitation/accept"),
    ("POST", "invitation/decline"),
    ("POST", "unmute"),
    ("POST", "leave"),
    ("POST", "reactions"),
    ("PATCH", ""),
]
# The body each needs.
BODIES: dict[str, dict[str, str]] = {"reactions": {"emoji": "👏"}, "": {"title": "Late show"}}
MOVES = [
    ("POST", "speakers"),
    ("DELETE", "speakers"),
    ("POST", "cohosts"),
    ("DELETE", "cohosts"),
    ("POST", "mute"),
    ("POST", "remove"),
]


class RoomMachine(RuleBasedStateMachine):
    nodes: tuple[ServerThread, ServerThread]
    people: list[Member]
    moderator: httpx.Client  # through the first node
    # Someone who never joins, reading the space through each node.
    readers: tuple[httpx.Client, httpx.Client]

    def __init__(self) -> None:
        super().__init__()
        host = self.people[0]
        made = host.http.post("/spaces", json={"title": "Room"})
        assert made.status_code == 201, made.text
        self.space_id: str = made.json()["id"]
        for person in self.people[1:]:  # everyone starts in the room
            joined = person.http.post(f"/spaces/{self.space_id}/join")
            assert joined.status_code == 200, joined.text
        self.removed: set[str] = set()
        self.suspended: set[str] = set()
        self.watches: list[Watch] = []
        self.truth_seq = 0
        self.present: set[str] = set()
        self.truth = self._truth()
        # The room as of each seq a step ended on: where a resumed socket starts from.
        self.history: dict[int, Room] = {self.truth_seq: self.truth.copy()}
        self.refused = False
        # How long time was moved on by the last step, if it was.
        self.waited: float | None = None

    # --- reading the server ------------------------------------------------------------------

    def _read(self, node: int) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """The space and its listeners as a node shows them; None for a space taken down (its
        host's suspension ended it: 410 `space_removed`)."""
        http = self.readers[node]
        view = http.get(f"/spaces/{self.space_id}")
        listeners = http.get(f"/spaces/{self.space_id}/listeners", params={"limit": 500})
        assert listeners.status_code == 200, listeners.text
        if view.status_code == 410:
            assert view.json()["code"] == "space_removed", view.text
            return None, listeners.json()
        assert view.status_code == 200, view.text
        return view.json(), listeners.json()

    def _truth(self) -> Room:
        (view, listeners), (other, other_listeners) = self._read(0), self._read(1)
        assert view == other and listeners == other_listeners, "the two nodes disagree"
        if view is None:
            self.present = set()
            return Room({}, 0, self.truth.title, False, "removed")
        self.truth_seq = view["seq"]
        stage = view["stage"]
        # Who is present (a host who stepped away is on the stage, not present).
        self.present = {p["account_id"] for p in stage + listeners if p["present"] is not False}
        if view["state"] == "live":
            assert [p["role"] for p in stage].count("host") == 1, stage
            assert len(stage) <= STAGE_SIZE, stage
        return Room.of(view, listeners)

    # --- acting ------------------------------------------------------------------------------

    def _act(self, person: Member, method: str, path: str, **kw: Any) -> str | None:
        """-> the refusal's code, None when it was done."""
        r = person.http.request(method, f"/spaces/{self.space_id}{path}", **kw)
        assert r.status_code < 500, f"{method} {path}: {r.status_code} {r.text}"
        if r.status_code < 400:
            return None
        assert r.headers["content-type"].startswith("application/problem+json"), r.text
        code = r.json()["code"]
        assert isinstance(code, str) and code, r.text
        self.refused = True
        return code

    @rule(i=who)
    def join(self, i: int) -> None:
        person = self.people[i]
        refusal = self._act(person, "POST", "/join")
        if person.id in self.removed - self.suspended and self.truth.state == "live":
            assert refusal == "removed_from_space", refusal

    @rule(i=who, act=st.sampled_from(SELF_ACTS))
    def on_self(self, i: int, act: tuple[str, str]) -> None:
        method, path = act
        self._act(self.people[i], method, f"/{path}" if path else "", json=BODIES.get(path))

    @rule(i=who, j=who, move=st.sampled_from(MOVES))
    def on_person(self, i: int, j: int, move: tuple[str, str]) -> None:
        target = self.people[j]
        refusal = self._act(self.people[i], move[0], f"/{move[1]}/{target.handle}")
        if move[1] == "remove" and refusal is None:
            self.removed.add(target.id)

    @rule(j=who, move=st.sampled_from(MOVES))
    def host_moves(self, j: int, move: tuple[str, str]) -> None:
        """As `on_person`, by the host: the moves that change the room most are theirs."""
        self.on_person(0, j, move)

    @precondition(lambda self: len(self.watches) < 6 and self.truth.state == "live")
    @rule(i=who, resume=st.booleans(), back=st.integers(0, 50))
    def watch(self, i: int, resume: bool, back: int) -> None:
        """Open an event socket on the person's other node: fresh (a snapshot, then the
        listeners fetched as the web client does), or resuming after an earlier step's seq."""
        person = self.people[i]
        seqs = sorted(self.history)
        since = seqs[max(0, len(seqs) - 1 - back)] if resume else None
        base = person.socket_node.base_url.replace("http", "ws", 1)
        url = f"{base}/api/v1/spaces/{self.space_id}/events"
        opened = ExitStack()
        ws = opened.enter_context(
            connect(
                url + ("" if since is None else f"?since={since}"),
                additional_headers={"Authorization": f"Bearer {person.token}"},
            )
        )
        room = None if since is None else self.history[since].copy()
        watch = Watch(person, ws, room, since or 0, opened=opened)
        watch.start()
        self.watches.append(watch)
        if since is None:
            snapshot = until(lambda: watch.received and watch.received[0])
            if snapshot["type"] == "error":  # turned away: the invariant checks its close
                if person.id in self.suspended:
                    assert snapshot["code"] in SIGNED_OUT, snapshot
                else:
                    assert person.id in self.removed, snapshot
                    assert snapshot["code"] == "removed_from_space", snapshot
                return
            assert snapshot["type"] == "snapshot", snapshot
            watch.take()
            view = snapshot["data"]
            listeners = person.http.get(
                f"/spaces/{self.space_id}/listeners", params={"limit": 500}
            ).json()
            watch.room, watch.last_seq = Room.of(view, listeners), snapshot["seq"]

    @precondition(lambda self: self.truth.state == "live")
    @rule(j=who)
    def suspend(self, j: int) -> None:
        """A moderator suspends one of them, through the first node: out of the room at once
        (a host's space passes to a cohost, or ends), every socket closed on both nodes."""
        person = self.people[j]
        body = {"rule": "spam", "reason": "Flooding the room"}
        r = self.moderator.post(f"/admin/accounts/{person.handle}/suspend", json=body)
        if person.id in self.suspended:
            assert r.status_code == 409 and r.json()["code"] == "already_suspended", r.text
            return
        assert r.status_code == 200, r.text
        self.suspended.add(person.id)

    @rule(seconds=st.sampled_from([5, LONG_WAIT]))
    def time_passes(self, seconds: float) -> None:
        """Both nodes' clocks move on, and their sweeps run every few seconds of it, as they
        would: each node says it is alive and neither takes back the other's connections, join
        tickets no socket claimed are handed back, those away past the presence timeout let
        go, a host away past their grace replaced."""
        for _ in range(int(seconds // SWEEP_SECONDS)):
            for server in self.nodes:
                server.node.clock.advance(timedelta(seconds=SWEEP_SECONDS))
                server.call(server.node.homing.advertise())
            for server in self.nodes:
                node = server.node
                server.call(node.joins.hand_back_tickets())
                server.call(node.presence.release_gone_nodes(node.homing.gone_before()))
                server.call(node.presence.sweep())
        self.waited = seconds

    @precondition(lambda self: self.watches)
    @rule(k=st.integers(0, 5))
    def stop_watching(self, k: int) -> None:
        self.watches.pop(k % len(self.watches)).close()

    # --- what must hold ----------------------------------------------------------------------

    @invariant()
    def every_socket_draws_the_room_as_it_is(self) -> None:
        before, was_present = self.truth, self.present
        self.truth = truth = self._truth()
        if self.refused:
            assert truth == before, "a refused action changed the room"
            self.refused = False
        if self.waited is not None:
            self._presence_kept(before, was_present, truth, self.waited)
            self.waited = None
        self.history[self.truth_seq] = truth.copy()
        for account_id in self.suspended:
            assert account_id not in self.present, f"{account_id} is suspended and still in"
            assert truth.host() != account_id, "a suspended host still hosts"
        for watch in [w for w in self.watches if w.person.id in self.suspended | self.removed]:
            self._turned_away(watch, over=truth.state != "live")
        if truth.state != "live":
            self._all_closed()
            return
        for watch in self.watches:
            until(partial(self._caught_up, watch))
            assert watch.room == truth, (watch.person.handle, watch.room, truth)

    def _caught_up(self, watch: Watch) -> bool:
        for message in watch.take():
            if "seq" not in message or message["type"] in ("account", "snapshot"):
                continue
            assert message["seq"] == watch.last_seq + 1, (watch.last_seq, message)
            watch.last_seq = message["seq"]
            assert watch.room is not None
            watch.room.apply(message, self.truth)
        return watch.last_seq == self.truth_seq

    def _turned_away(self, watch: Watch, *, over: bool) -> None:
        """A removed person's socket: told, and closed with 4003; a suspended one's with 4401,
        on either node (or 4002, when their suspension ended the space they hosted: the
        space's end and the suspension race to the socket)."""
        until(watch.closed)
        if watch.person.id not in self.suspended:
            expected = {4003}
        else:
            expected = {4401, 4002} if over else {4401}
        assert watch.close_code in expected, (watch.close_code, expected)
        self.watches.remove(watch)
        watch.close()

    def _all_closed(self) -> None:
        """The space is over: every socket still open is closed with 4002."""
        for watch in self.watches:
            until(watch.closed)
            assert watch.close_code == 4002, (watch.person.handle, watch.close_code)
            watch.close()
        self.watches.clear()

    def _counted(self) -> set[str]:
        """Who has a socket open: it keeps them in. Everyone joined at the start, and a socket
        of anyone who ever joined counts (also one opened before a rejoin)."""
        return {w.person.id for w in self.watches if not w.closed()}

    def _presence_kept(
        self, before: Room, was_present: set[str], after: Room, seconds: float
    ) -> None:
        """What time did: whoever had a socket open stayed; past the wait for a first
        connection and the presence timeout nobody without one is left but the host (whether
        theirs closed or they never opened one: a join alone holds nobody), and past the host's
        grace a host without one is not the host any more (a cohost is, or the space is over)."""
        counted = self._counted()
        if after.state == "live":
            for account_id in counted & was_present:
                assert account_id in self.present, f"dropped though connected: {account_id}"
        if seconds < LONG_WAIT:
            return
        for account_id, seat in after.people.items():
            if seat.role != "host":
                assert account_id in counted, f"{account_id} has no socket: still in"
        host = before.host()
        if host is not None and host not in counted and after.state == "live":
            assert after.host() != host, "a host gone past their grace is still the host"

    def teardown(self) -> None:
        """The host ends the space (whoever hosts it by then), if time has not ended it; the
        suspended are let back, for the next example."""
        try:
            host = self.truth.host()
            if self.truth.state == "live" and host is not None:
                hosting = next(p for p in self.people if p.id == host)
                refusal = self._act(hosting, "POST", "/end")
                assert refusal is None, f"the host could not end the space: {refusal}"
            self._all_closed()
        finally:
            for watch in self.watches:
                watch.close()
            for person in self.people:
                if person.id in self.suspended:
                    body = {"reason": "Served"}
                    r = self.moderator.post(f"/admin/accounts/{person.handle}/unsuspend", json=body)
                    assert r.status_code == 200, r.text
                    person.sign_in_again()


async def test_every_client_on_either_node_sees_the_room_as_it_is() -> None:
    async with two_nodes(
        stage_size=STAGE_SIZE,
        connect_wait_seconds=CONNECT_WAIT,
        presence_timeout_seconds=PRESENCE_TIMEOUT,
        host_grace_seconds=HOST_GRACE,
        sweep_interval_seconds=3600,  # the machine sweeps as it moves the clocks
    ) as nodes:
        people = []
        for i in range(PEOPLE):
            acts_on, watches_on = nodes[i % 2], nodes[(i + 1) % 2]
            signed_up = await SignedUp.sign_up(acts_on.base_url, f"p{i}")
            await signed_up.close()
            http = _client(acts_on, signed_up.token)
            people.append(Member(signed_up.id, signed_up.handle, signed_up.token, http, watches_on))
        moderator = await admin(nodes[0], "mod")
        await moderator.close()
        RoomMachine.moderator = _client(nodes[0], moderator.token)
        readers = [
            await SignedUp.sign_up(node.base_url, f"reader{n}") for n, node in enumerate(nodes)
        ]
        RoomMachine.nodes, RoomMachine.people = nodes, people
        RoomMachine.readers = (
            _client(nodes[0], readers[0].token),
            _client(nodes[1], readers[1].token),
        )
        try:
            run_state_machine_as_test(
                RoomMachine,
                settings=settings(
                    max_examples=30,
                    stateful_step_count=30,
                    deadline=None,
                    database=None,
                    suppress_health_check=list(HealthCheck),
                ),
            )
        finally:
            clients = [RoomMachine.moderator, *RoomMachine.readers]
            for client in clients + [member.http for member in people]:
                client.close()
            for reader in readers:
                await reader.close()


def _client(node: ServerThread, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=f"{node.base_url}/api/v1",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
        verify=TLS,
    )
