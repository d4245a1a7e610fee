"""A suspended account out of every live room, across two nodes, while the rooms are busy.

The promise (DESIGN.md, the guide): a suspended account is out of every live room within a
second. Two `parley serve` processes share PostgreSQL and Redis, both pinned to core 0; the load
runs here, pinned to core 1, and its own CPU is shown. `--spaces` live spaces, each with a host
and a speaker sending audio over WebRTC, and `--listeners` background listeners holding event
sockets spread over the spaces and both nodes. Each victim joins every space and holds an event
socket in each (on node A and node B by turns); every other victim also speaks in the first
space (on stage, unmuted, a 1 kHz tone over WebRTC). Two WebRTC listeners of that space decode
the program: one on node B, which mixes it, one on node A, which gets it relayed. A moderator
suspends the victims one by one through node A. For each suspension, from sending the request:
- *sockets closed*: the last of the victim's sockets to get its close frame (4401);
- *media closed*: its WebRTC connection closed;
- *last packet heard*: the start of the silence, at the later of the two listeners, after which
  the victim's voice never comes back (DESIGN.md's "suspension to last packet");
- *out of every room*: the last space whose host (on node B) is told the victim was removed.
Each count of listeners is a run of its own, on a new database and new nodes. A victim who
fails to join or connect, or a suspension not seen through within 10 s, fails the
run: it prints what failed and records no row.

    python -m bench.suspension [--victims 40] [--spaces 3] [--listeners 150 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field

import aiohttp
from aiortc import RTCPeerConnection, RTCSessionDescription

from bench.common import (
    ServerProcess,
    fresh_postgres_database,
    percentile,
    record,
    server_processes,
    sign_up,
)
from tests.support.audio import MediaClient, Voice
from tests.support.clients import Person

SERVER_CORE, LOAD_CORE = "0", 1
REDIS = "redis://127.0.0.1:6379/0"
PASSWORD = "bench password"
CLI = [sys.executable, "-m", "parley.cli"]
DEADLINE = 10.0
# The background speakers sing one note, the victims on stage another: what the ears listen for.
SPEAKER_TONE, VICTIM_TONE = 440.0, 1000.0


Closable = aiohttp.ClientWebSocketResponse | RTCPeerConnection


class RunFailed(RuntimeError):
    """A victim did not get in, or a suspension was not seen through: a failure, not a row."""


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _ws(api: str) -> str:
    return api.replace("http://", "ws://")


@dataclass
class Removals:
    """When each host's socket was told that an account was removed, by space."""

    seen: dict[tuple[str, str], float] = field(default_factory=dict)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def read(self, ws: aiohttp.ClientWebSocketResponse, space_id: str) -> None:
        async for message in ws:
            # A cheap substring test: the rooms are busy, most frames are something else.
            if message.type != aiohttp.WSMsgType.TEXT or "participant_removed" not in message.data:
                continue
            parsed = json.loads(message.data)
            for event in parsed if isinstance(parsed, list) else [parsed]:
                if event.get("type") == "participant_removed":
                    self.seen[(space_id, event["data"]["account_id"])] = time.monotonic()
                    self.changed.set()

    async def all_seen(self, account_id: str, space_ids: list[str]) -> float:
        while not all((s, account_id) in self.seen for s in space_ids):
            self.changed.clear()
            await self.changed.wait()
        return max(self.seen[(s, account_id)] for s in space_ids)


async def _media(
    http: aiohttp.ClientSession, api: str, sid: str, token: str, tone: float
) -> RTCPeerConnection:
    pc = RTCPeerConnection()
    pc.addTrack(Voice(tone))
    await pc.setLocalDescription(await pc.createOffer())
    offer = {"sdp": pc.localDescription.sdp, "type": "offer"}
    async with http.post(f"{api}/spaces/{sid}/media", json=offer, headers=_auth(token)) as r:
        if r.status != 200:
            raise RunFailed(f"media refused: {r.status} {await r.text()}")
        answer = await r.json()
    await pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))
    await asyncio.wait_for(_reach(pc, ("connected",)), DEADLINE)
    return pc


async def _reach(pc: RTCPeerConnection, states: tuple[str, ...]) -> float:
    changed = asyncio.Event()
    pc.on("connectionstatechange", changed.set)
    while pc.connectionState not in states:
        changed.clear()
        await changed.wait()
    return time.monotonic()


async def _closed(ws: aiohttp.ClientWebSocketResponse) -> float:
    async for _ in ws:
        pass
    if ws.close_code != 4401:
        raise RunFailed(f"a victim's socket closed with {ws.close_code}, not 4401")
    return time.monotonic()


async def _join(
    http: aiohttp.ClientSession, api: str, sid: str, token: str
) -> aiohttp.ClientWebSocketResponse:
    async with http.post(f"{api}/spaces/{sid}/join", headers=_auth(token)) as r:
        if r.status != 200:
            raise RunFailed(f"join refused: {r.status} {await r.text()}")
    ws = await http.ws_connect(f"{_ws(api)}/spaces/{sid}/events?batch=1", headers=_auth(token))
    first = json.loads((await ws.receive()).data)
    if first.get("type") != "snapshot":
        raise RunFailed(f"no snapshot: {first}")
    return ws


async def _on_stage(
    http: aiohttp.ClientSession, api: str, sid: str, host: str, handle: str, token: str
) -> None:
    """Hand up, brought on stage, unmuted: a speaker, as tests.support.clients does it."""
    for path, who in (("hand", token), (f"speakers/{handle}", host), ("unmute", token)):
        async with http.post(f"{api}/spaces/{sid}/{path}", headers=_auth(who)) as r:
            if r.status != 204:
                raise RunFailed(f"{path}: {r.status} {await r.text()}")


@dataclass
class Rooms:
    space_ids: list[str]
    # The host of the first space, where the victims speak.
    host: str
    # A WebRTC listener of the first space on each node: node B mixes it (its speaker connected
    # there first), node A gets the program relayed.
    ears: list[MediaClient]
    held: list[Closable]


async def _rooms(
    http: aiohttp.ClientSession, a: str, b: str, spaces: int, listeners: int, removals: Removals
) -> Rooms:
    """Live spaces with a speaker sending audio and listeners on both nodes."""
    hosts = await sign_up(http, b, [f"host{i}" for i in range(spaces)], limit=4)
    speakers = await sign_up(http, b, [f"speaker{i}" for i in range(spaces)], limit=4)
    crowd = await sign_up(http, a, [f"l{i}" for i in range(listeners)], limit=8)
    sids: list[str] = []
    held: list[Closable] = []
    for i, (host, speaker) in enumerate(zip(hosts, speakers, strict=True)):
        async with http.post(f"{b}/spaces", json={"title": f"Room {i}"}, headers=_auth(host)) as r:
            sid = (await r.json())["id"]
        sids.append(sid)
        host_ws = await _join(http, b, sid, host)
        held.append(host_ws)
        asyncio.get_running_loop().create_task(removals.read(host_ws, sid))
        held.append(await _join(http, b, sid, speaker))
        await _on_stage(http, b, sid, host, f"speaker{i}", speaker)
        held.append(await _media(http, b, sid, speaker, SPEAKER_TONE))
    for n, token in enumerate(crowd):
        held.append(await _join(http, (a, b)[n % 2], sids[n % spaces], token))
    ears = []
    for api, token in zip((a, b), await sign_up(http, a, ["ear_a", "ear_b"]), strict=True):
        held.append(await _join(http, api, sids[0], token))
        person = Person(api.removesuffix("/api/v1"), "ear", token, {})
        ears.append(await MediaClient.connect(person, sids[0]))
    return Rooms(sids, hosts[0], ears, held)


async def measure(victims: int, spaces: int, listeners: int) -> dict[str, float]:
    async with fresh_postgres_database() as url:
        env = {
            "PARLEY_DATABASE_URL": url,
            "PARLEY_REDIS_URL": REDIS,
            # One secret for both: node A authenticates to B for the relayed program.
            "PARLEY_NODE_SECRET": secrets.token_hex(16),
            "PARLEY_ARGON2_QUEUE": "10000",
        }
        with server_processes(2, SERVER_CORE, **env) as nodes:
            result = await _run(nodes, env, victims, spaces, listeners)
    return result


async def _run(
    nodes: list[ServerProcess], env: dict[str, str], victims: int, spaces: int, listeners: int
) -> dict[str, float]:
    made = await asyncio.to_thread(
        subprocess.run,
        [*CLI, "admin", "create-user", "mod", "--password", PASSWORD, "--admin"],
        env={**os.environ, **env, "PARLEY_ARGON2_TIME_COST": "1"},
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr
    a, b = (f"{node.base}/api/v1" for node in nodes)
    removals = Removals()
    # No cap on connections: every listener holds its socket for the whole run.
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        async with http.post(f"{a}/sessions", json={"handle": "mod", "password": PASSWORD}) as r:
            mod = _auth((await r.json())["token"])
        rooms = await _rooms(http, a, b, spaces, listeners, removals)
        tokens = await sign_up(http, a, [f"v{i}" for i in range(victims)], limit=8)
        cpu_before = sum(node.cpu_seconds() for node in nodes), _load_cpu()
        began = time.monotonic()
        outs = [
            await _suspend_one(http, (a, b), rooms, removals, mod, f"v{i}", token, i % 2 == 0)
            for i, token in enumerate(tokens)
        ]
        wall = time.monotonic() - began
        server_cpu = sum(node.cpu_seconds() for node in nodes) - cpu_before[0]
        load_cpu = _load_cpu() - cpu_before[1]
        for ear in rooms.ears:
            await ear.close()
        for thing in rooms.held:
            with contextlib.suppress(Exception):
                await thing.close()
    sockets = ms([o.sockets for o in outs])
    rooms_out = ms([o.rooms for o in outs])
    medias = ms([o.media for o in outs if o.media is not None])
    silent = ms([o.last_packet for o in outs if o.last_packet is not None])
    return {
        "victims": victims,
        "spaces": spaces,
        "listeners": listeners,
        "socket_p50": percentile(sockets, 50),
        "socket_p99": percentile(sockets, 99),
        "media_p50": percentile(medias, 50),
        "media_p99": percentile(medias, 99),
        "silent_p50": percentile(silent, 50),
        "silent_p99": percentile(silent, 99),
        "rooms_p50": percentile(rooms_out, 50),
        "rooms_p99": percentile(rooms_out, 99),
        "worst": max(sockets + medias + silent + rooms_out),
        "server_cpu": server_cpu / wall,
        "load_cpu": load_cpu / wall,
    }


@dataclass(frozen=True)
class Out:
    """Seconds from a suspension's request to each way the victim is out."""

    sockets: float
    rooms: float
    media: float | None
    # The last of the victim's voice at a listener of either node.
    last_packet: float | None


async def _suspend_one(
    http: aiohttp.ClientSession,
    nodes: tuple[str, str],
    rooms: Rooms,
    removals: Removals,
    mod: dict[str, str],
    handle: str,
    token: str,
    speaks: bool,
) -> Out:
    """One victim in every space (a speaker in the first if `speaks`), then suspended."""
    a, b = nodes
    async with http.get(f"{a}/me", headers=_auth(token)) as r:
        account_id = (await r.json())["id"]
    sids = rooms.space_ids
    own = [await _join(http, nodes[j % 2], sid, token) for j, sid in enumerate(sids)]
    pc = None
    if speaks:
        await _on_stage(http, b, sids[0], rooms.host, handle, token)
        pc = await _media(http, b, sids[0], token, VICTIM_TONE)
        for ear in rooms.ears:
            await ear.hearing.until("hears", VICTIM_TONE, timeout=DEADLINE)
    closing = asyncio.gather(*(_closed(ws) for ws in own))
    out = asyncio.create_task(removals.all_seen(account_id, sids))
    hung_up = asyncio.create_task(_reach(pc, ("closed", "failed"))) if pc else None
    started = time.monotonic()
    body = {"rule": "spam", "reason": "Benchmark"}
    async with http.post(f"{a}/admin/accounts/{handle}/suspend", json=body, headers=mod) as r:
        if r.status != 200:
            raise RunFailed(f"suspension refused: {r.status} {await r.text()}")
    try:
        async with asyncio.timeout(DEADLINE):
            sockets = max(await closing) - started
            in_rooms = await out - started
            media = await hung_up - started if hung_up is not None else None
            last_packet = await _silent(rooms.ears, started) if speaks else None
    except TimeoutError:
        raise RunFailed(f"@{handle} was not out within {DEADLINE:.0f} s") from None
    if pc is not None:
        await pc.close()
    return Out(sockets, in_rooms, media, last_packet)


async def _silent(ears: list[MediaClient], started: float) -> float:
    """When the victim's voice stopped for good at the last of the ears."""
    for ear in ears:
        await ear.hearing.until("silent_at", VICTIM_TONE, timeout=DEADLINE)
    await asyncio.sleep(0.3)  # silent for good: it does not come back
    gone = [ear.hearing.silent_since(VICTIM_TONE, started) for ear in ears]
    if any(g is None for g in gone):
        raise RunFailed("a suspended speaker was heard again")
    return max(g for g in gone if g is not None)


def ms(seconds: list[float]) -> list[float]:
    return [1000 * s for s in seconds]


def _load_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


HEADER = (
    "| suspensions | spaces each | listeners | sockets closed p50 / p99 ms "
    "| media closed p50 / p99 ms | last packet heard p50 / p99 ms "
    "| out of every room p50 / p99 ms | worst ms | server CPU | load CPU |\n"
    "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--victims", type=int, default=40)
    parser.add_argument("--spaces", type=int, default=3)
    parser.add_argument("--listeners", type=int, nargs="+", default=[150, 1000])
    args = parser.parse_args()
    os.sched_setaffinity(0, {LOAD_CORE})  # the load on its own core, both nodes on the other
    lines = []
    for listeners in args.listeners:
        try:
            r = asyncio.run(measure(args.victims, args.spaces, listeners))
        except (RunFailed, aiohttp.ClientError, TimeoutError) as failed:
            print(f"FAILED with {listeners} listeners: {failed!r}", file=sys.stderr)
            sys.exit(1)
        lines.append(
            f"| {r['victims']:.0f} | {r['spaces']:.0f} | {r['listeners']:.0f} | "
            f"{r['socket_p50']:.0f} / {r['socket_p99']:.0f} | "
            f"{r['media_p50']:.0f} / {r['media_p99']:.0f} | "
            f"{r['silent_p50']:.0f} / {r['silent_p99']:.0f} | "
            f"{r['rooms_p50']:.0f} / {r['rooms_p99']:.0f} | {r['worst']:.0f} | "
            f"{100 * r['server_cpu']:.0f} % | {100 * r['load_cpu']:.0f} % |"
        )
        print(lines[-1], flush=True)
    line = "\n".join(lines)
    print(HEADER + line)
    record(
        "Suspension to out of every room, across nodes (bench/suspension.py)",
        "python -m bench.suspension",
        HEADER
        + line
        + "\n\nTwo `parley serve` processes on PostgreSQL and Redis, both pinned to core 0 "
        f"(taskset); the load in one process pinned to core {LOAD_CORE}. Each space live with a "
        "speaker sending audio over WebRTC and its share of the listeners' event sockets, on "
        "both nodes. Each victim is in every space, with an event socket in each (nodes A and B "
        "by turns); every other victim speaks in the first space (a 1 kHz tone over WebRTC, on "
        "node B), heard by a WebRTC listener on node B (which mixes) and one on node A (relayed). "
        "The suspension is requested through node A. Times run from sending the request: to the "
        "last of the victim's sockets closed (4401), to its media connection closed, to the "
        "start of the silence after which its voice never came back at the later listener, and "
        "to the last host (on node B) told it was removed. *server CPU* is both nodes' CPU time "
        "over the "
        "victims' phase (each joining, connecting and suspended in turn) over its wall time "
        "(one core is 100 %), *load CPU* this process's. "
        "Target (DESIGN.md): out of every live room within 1 s.",
    )


if __name__ == "__main__":
    main()
