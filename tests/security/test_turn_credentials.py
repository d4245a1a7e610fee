"""Issue 8, finding 7: TURN credentials are short-lived, per participant, and only for them.

A real coturn (`use-auth-secret`) runs on free loopback ports for each test; aiortc clients
gather with what the API handed them, and a relay candidate in their offer is the proof that
the TURN server accepted the credential. coturn is a test requirement: without it these tests
fail (never skip), naming the package to install.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection

from tests.support.clients import Person
from tests.support.prerequisites import missing, turnserver_problem
from tests.support.servers import ServerThread, serve, sqlite_url

# Needs coturn's turnserver: a run without it stops before its first test (tests/conftest.py).
pytestmark = pytest.mark.turn

TTL_SECONDS = 3600


@dataclass(frozen=True)
class Turn:
    url: str
    secret: str
    port: int

    @property
    def stun(self) -> str:
        return f"stun:127.0.0.1:{self.port}"


def _free_udp_and_tcp_port() -> int:
    """A loopback port free for both TCP and UDP (coturn listens on both)."""
    for _ in range(50):
        with socket.socket() as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = int(tcp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
    raise AssertionError("no free loopback port for coturn")


def _answers_stun(port: int) -> bool:
    """A STUN binding request gets an answer: the server is listening."""
    request = b"\x00\x01\x00\x00\x21\x12\xa4\x42" + secrets.token_bytes(12)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.settimeout(0.2)
        udp.sendto(request, ("127.0.0.1", port))
        try:
            return udp.recv(2048)[8:20] == request[8:20]
        except OSError:
            return False


@pytest.fixture
def turnserver(tmp_path: Path) -> Iterator[Turn]:
    problem = turnserver_problem()
    if problem:
        missing(problem)
    binary = shutil.which("turnserver") or "/usr/bin/turnserver"
    port = _free_udp_and_tcp_port()
    secret = secrets.token_urlsafe(24)
    folder = tmp_path / "coturn"
    folder.mkdir()
    command = [
        binary,
        "-n",  # no configuration file: only what is said here
        "--no-cli",
        "--listening-ip=127.0.0.1",
        "--relay-ip=127.0.0.1",
        f"--listening-port={port}",
        "--allow-loopback-peers",
        "--use-auth-secret",
        f"--static-auth-secret={secret}",
        "--realm=parley.test",
        "--no-tls",
        "--no-dtls",
        f"--userdb={folder / 'turndb'}",
        f"--pidfile={folder / 'turnserver.pid'}",
        f"--log-file={folder / 'turnserver.log'}",
        "--simple-log",
        "--no-stdout-log",
    ]
    # Not a daemon: the test owns the process and ends it.
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=folder
    )
    try:
        deadline = time.monotonic() + 10
        while not _answers_stun(port):
            assert process.poll() is None, f"turnserver exited with {process.returncode}"
            assert time.monotonic() < deadline, "turnserver did not start listening"
        yield Turn(f"turn:127.0.0.1:{port}?transport=udp", secret, port)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
async def server(tmp_path: Path, turnserver: Turn) -> AsyncIterator[ServerThread]:
    with serve(
        database_url=sqlite_url(tmp_path),
        # coturn answers STUN too: a static entry of PARLEY_ICE_SERVERS, as deployed.
        ice_servers=[{"urls": turnserver.stun}],
        turn_urls=turnserver.url,
        turn_secret=turnserver.secret,
        turn_ttl_seconds=TTL_SECONDS,
    ) as running:
        yield running


@pytest.fixture
async def space(server: ServerThread) -> AsyncIterator[dict[str, Any]]:
    """A live space with its host and a listener who joined; a stranger who did not."""
    people = {n: await Person.sign_up(server.base_url, n) for n in ("host", "lena", "stranger")}
    sid = (await people["host"].call("POST", "/spaces", 201, json={"title": "Relay"}))["id"]
    await people["lena"].call("POST", f"/spaces/{sid}/join", 200)
    yield {"sid": sid, **people}
    for person in people.values():
        await person.close()


def turn_entry(config: dict[str, Any]) -> dict[str, Any]:
    servers: list[dict[str, Any]] = config["ice_servers"]
    [entry] = [s for s in servers if any(u.startswith("turn") for u in s["urls"])]
    return entry


def password(secret: str, username: str) -> str:
    """The TURN REST API password, written out here independently of parley.core."""
    return base64.b64encode(
        hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    ).decode()


async def relay_candidates(url: str, username: str, credential: str) -> list[str]:
    """The relay candidates an aiortc client gathers with this TURN credential."""
    servers = [RTCIceServer(urls=[url], username=username, credential=credential)]
    pc = RTCPeerConnection(RTCConfiguration(iceServers=servers))
    try:
        pc.addTransceiver("audio", direction="recvonly")
        await asyncio.wait_for(pc.setLocalDescription(await pc.createOffer()), 15)
        assert pc.localDescription is not None
        return [line for line in pc.localDescription.sdp.split("\r\n") if "typ relay" in line]
    finally:
        await pc.close()


async def test_a_participant_gets_a_credential_of_its_own_that_the_turn_server_accepts(
    server: ServerThread, space: dict[str, Any], turnserver: Turn
) -> None:
    sid, lena = space["sid"], space["lena"]
    before = int(time.time())
    config = await lena.call("GET", f"/spaces/{sid}/media", 200)
    # STUN from PARLEY_ICE_SERVERS stays as it was.
    assert {"urls": [turnserver.stun]} in config["ice_servers"]
    turn = turn_entry(config)
    assert turn["urls"] == [turnserver.url]
    expiry, _, who = turn["username"].partition(":")
    assert who == lena.id
    assert before + TTL_SECONDS <= int(expiry) <= int(time.time()) + TTL_SECONDS
    assert turn["credential"] == password(turnserver.secret, turn["username"])

    assert await relay_candidates(turnserver.url, turn["username"], turn["credential"])


async def test_the_answer_carries_a_working_credential_and_the_server_relays_too(
    server: ServerThread, space: dict[str, Any], turnserver: Turn
) -> None:
    sid, lena = space["sid"], space["lena"]
    client = RTCPeerConnection()
    client.addTransceiver("audio", direction="recvonly")
    await client.setLocalDescription(await client.createOffer())
    assert client.localDescription is not None
    try:
        answer = await lena.call(
            "POST",
            f"/spaces/{sid}/media",
            200,
            json={"sdp": client.localDescription.sdp, "type": "offer"},
        )
    finally:
        await client.close()
    turn = turn_entry(answer)
    assert turn["username"].endswith(f":{lena.id}")
    assert await relay_candidates(turnserver.url, turn["username"], turn["credential"])
    # The server's own peer connection got a relay address with a credential of its own.
    assert "typ relay" in answer["sdp"]
    await lena.call("DELETE", f"/spaces/{sid}/media", 204)


async def test_no_credential_for_anyone_outside_the_space(
    server: ServerThread, space: dict[str, Any]
) -> None:
    sid, lena, stranger = space["sid"], space["lena"], space["stranger"]
    path = f"/spaces/{sid}/media"
    r = await stranger.http.get(path)
    assert r.status_code == 403 and r.json()["code"] == "not_in_space", r.text
    assert "credential" not in r.text and "turn:" not in r.text
    await stranger.refused("GET", "/spaces/nope/media", 404, "space_not_found")
    await lena.call("POST", f"/spaces/{sid}/leave", 204)
    await lena.refused("GET", path, 403, "not_in_space")
    await lena.call("POST", f"/spaces/{sid}/join", 200)
    await lena.call("GET", path, 200)
    await space["host"].call("POST", f"/spaces/{sid}/remove/lena", 204)
    await lena.refused("GET", path, 403, "removed_from_space")


async def test_expired_and_forged_credentials_get_no_relay(
    server: ServerThread, space: dict[str, Any], turnserver: Turn
) -> None:
    sid, lena = space["sid"], space["lena"]
    url = turnserver.url
    # The node's clock two TTLs back: what it hands out has already expired.
    server.node.clock.advance(timedelta(seconds=-2 * TTL_SECONDS))
    stale = turn_entry(await lena.call("GET", f"/spaces/{sid}/media", 200))
    assert int(stale["username"].split(":")[0]) < time.time()
    assert not await relay_candidates(url, stale["username"], stale["credential"])

    server.node.clock.advance(timedelta(seconds=2 * TTL_SECONDS))
    fresh = turn_entry(await lena.call("GET", f"/spaces/{sid}/media", 200))
    username = fresh["username"]
    # Signed with another secret; someone else's name under lena's signature; a later expiry.
    expiry, _, _ = username.partition(":")
    forged = [
        (username, password("not the secret", username)),
        (f"{expiry}:{space['host'].id}", fresh["credential"]),
        (f"{int(expiry) + 86400}:{lena.id}", fresh["credential"]),
    ]
    for name, credential in forged:
        assert not await relay_candidates(url, name, credential), name
    # The fresh one does work: the refusals above are about the credential, not the server.
    assert await relay_candidates(url, username, fresh["credential"])


def test_the_core_computes_the_turn_rest_api_credential() -> None:
    from parley.core.turn import turn_credential

    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    made = turn_credential("s3cret", "acc1", now=now, ttl_seconds=60)
    assert made.username == f"{int(now.timestamp()) + 60}:acc1"
    assert made.credential == password("s3cret", made.username)
    assert made.expires_at == now + timedelta(seconds=60)
