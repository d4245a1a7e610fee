"""A space's room as a client draws it from the event socket, as the web client does
(`parley/web/js/space/updates.js`), and the people and sockets tests/integration/
test_room_machine.py drives: one person acting through one node and watching through another,
a socket read by a thread of its own."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from typing import Any

import httpx
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection

from tests.support.clients import PASSWORD
from tests.support.servers import ServerThread

STAGE = {"host", "cohost", "speaker"}


@dataclass(frozen=True)
class Seat:
    """A person in the room as a client draws them."""

    role: str
    muted: bool
    hand_raised: bool = False
    invited: bool = False


@dataclass
class Room:
    """What a client shows of the space."""

    people: dict[str, Seat]
    listener_count: int
    title: str
    host_present: bool
    state: str

    @classmethod
    def of(cls, view: dict[str, Any], listeners: list[dict[str, Any]]) -> Room:
        """The room as the server has it: the stage from the space, the audience listed."""
        people = {p["account_id"]: _seat(p) for p in view["stage"]}
        for p in listeners:
            if p["account_id"] not in people and p["present"] is not False:
                people[p["account_id"]] = _seat(p)
        return cls(
            people, view["listener_count"], view["title"], view["host_present"], view["state"]
        )

    def copy(self) -> Room:
        return replace(self, people=dict(self.people))

    def host(self) -> str | None:
        return next((a for a, seat in self.people.items() if seat.role == "host"), None)

    def apply(self, message: dict[str, Any], refreshed: Room) -> None:
        """One numbered message, as updates.js applies it. `refreshed`: the space read anew,
        which the web client does on `host_changed`."""
        kind, data = message["type"], message.get("data") or {}
        if isinstance(data.get("listener_count"), int):
            self.listener_count = data["listener_count"]
        who = str(data.get("account_id", ""))
        seat = self.people.get(who)
        match kind:
            case "participant_joined" | "role_changed":
                self.people[who] = Seat(data["role"], data.get("muted", True))
            case "participant_left" | "participant_removed":
                self.people.pop(who, None)
            case "mic_changed" if seat:
                self.people[who] = replace(seat, muted=data["muted"])
            case "hand_changed" if seat:
                self.people[who] = replace(seat, hand_raised=data["raised"])
            case "speaker_invited" if seat:
                self.people[who] = replace(seat, invited=True)
            case "invitation_declined" if seat:
                self.people[who] = replace(seat, invited=False)
            case "space_updated" if "title" in data:
                self.title = data["title"]
            case "host_absent" | "host_returned":
                self.host_present = kind == "host_returned"
            case "host_changed":
                self.people.pop(data.get("previous", ""), None)
                self.host_present = refreshed.host_present
                stage = {a: seat for a, seat in refreshed.people.items() if seat.role in STAGE}
                self.people.update(stage)
                for account_id, seat in list(self.people.items()):
                    if seat.role in STAGE and account_id not in stage:
                        self.people[account_id] = replace(seat, role="listener")
            case "space_ended" | "space_cancelled":
                self.state = "ended"


def _seat(p: dict[str, Any]) -> Seat:
    return Seat(p["role"], p["muted"], p["hand_raised"], p["invited"])


def until(predicate: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Polls `predicate` until it returns something true, and returns that."""
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.005)
    return result


@dataclass
class Member:
    """One of the people: signed up, acting through one node, watching through the other."""

    id: str
    handle: str
    token: str
    http: httpx.Client
    socket_node: ServerThread

    def sign_in_again(self) -> None:
        """A new session, after a suspension revoked every one."""
        r = self.http.post("/sessions", json={"handle": self.handle, "password": PASSWORD})
        assert r.status_code == 201, r.text
        self.token = r.json()["token"]
        self.http.headers["Authorization"] = f"Bearer {self.token}"


@dataclass
class Watch:
    """One event socket, read by a thread of its own, and the room its messages draw."""

    person: Member
    ws: ClientConnection
    room: Room | None  # None until a fresh socket's snapshot came
    last_seq: int
    received: list[dict[str, Any]] = field(default_factory=list)
    applied: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    reader: threading.Thread | None = None
    opened: ExitStack = field(default_factory=ExitStack)

    def start(self) -> None:
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        try:
            for text in self.ws:
                with self.lock:
                    self.received.append(json.loads(text))
        except ConnectionClosed:
            pass

    @property
    def close_code(self) -> int | None:
        return self.ws.close_code

    def closed(self) -> bool:
        return self.ws.close_code is not None

    def take(self) -> list[dict[str, Any]]:
        with self.lock:
            fresh = self.received[self.applied :]
            self.applied = len(self.received)
        return fresh

    def close(self) -> None:
        self.opened.close()
        if self.reader is not None:
            self.reader.join(timeout=5)
