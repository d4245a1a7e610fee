"""`parley serve --workers 2` on PostgreSQL and Redis is one node: joins and events work across
its workers, a suspension closes the account's sockets on both within a second, and listeners
whose offers reach different workers hear the same speaker (a space's media lives in one worker,
the other forwards to it). Each worker is reached on purpose through its own Unix socket; the
shared port hands connections to whichever worker accepts first."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bench.common import ServerProcess, server_process
from parley.api.worker_routing import home_worker, worker_socket
from parley.store.accounts import AccountStore
from parley.store.db import Database
from tests.support.audio import MediaClient
from tests.support.clients import EventStream, Person, bring_on_stage, http_client
from tests.support.moderation import suspend
from tests.support.servers import REDIS_URL, fresh_postgres_database, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def via(server: ServerProcess, worker: int, person: Person) -> Person:
    """The same session, talking to one worker only."""
    path = str(worker_socket(server.log_path.parent, worker))
    other = Person("http://worker", person.handle, person.token, person.account)
    other.http = http_client(
        base_url="http://worker/api/v1",
        headers={"Authorization": f"Bearer {person.token}"},
        transport=httpx.AsyncHTTPTransport(uds=path),
        timeout=10,
    )
    return other


def events_on(server: ServerProcess, worker: int, person: Person, sid: str) -> EventStream:
    path = str(worker_socket(server.log_path.parent, worker))
    url = f"ws://worker/api/v1/spaces/{sid}/events"
    return EventStream(url, token=person.token, unix_socket=path)


async def every_worker_answers(server: ServerProcess, workers: int) -> None:
    """The port answered through one worker; the others may still be starting (importing, in
    a process of their own), their Unix sockets not there yet."""

    async def answers(worker: int) -> bool:
        path = str(worker_socket(server.log_path.parent, worker))
        transport = httpx.AsyncHTTPTransport(uds=path)
        try:
            async with httpx.AsyncClient(transport=transport, timeout=2) as client:
                return (await client.get("http://worker/healthz")).status_code == 200
        except httpx.HTTPError:
            return False

    for worker in range(workers):
        await wait_until(lambda w=worker: answers(w), timeout=60, interval=0.1)


async def make_admin(url: str, person: Person) -> None:
    db = Database(url)
    try:
        async with db.write() as conn:
            await AccountStore(conn).set_admin(person.id, True)
    finally:
        await db.close()


async def test_two_workers_share_joins_events_suspensions_and_a_spaces_media() -> None:
    async with fresh_postgres_database() as url:
        env = {"PARLEY_DATABASE_URL": url, "PARLEY_REDIS_URL": REDIS_URL}
        with server_process(args=["--workers", "2"], **env) as server:
            await every_worker_answers(server, 2)
            people = [
                await Person.sign_up(server.base, h) for h in ("mod", "host", "voice", "ada", "bob")
            ]
            mod, host, voice, ada, bob = people
            await make_admin(url, mod)
            sid = (await host.call("POST", "/spaces", 201, json={"title": "Workers"}))["id"]
            home = home_worker(sid, 2)
            # Joins through either worker; everyone's events through both.
            for worker, person in ((0, voice), (0, ada), (1, bob)):
                await via(server, worker, person).call("POST", f"/spaces/{sid}/join", 200)
            await bring_on_stage(host, voice, sid)
            async with (
                events_on(server, 0, ada, sid) as ada_0,
                events_on(server, 1, ada, sid) as ada_1,
                events_on(server, 1, bob, sid) as bob_1,
            ):
                for stream in (ada_0, ada_1, bob_1):
                    await stream.wait_for("snapshot")
                await via(server, 1 - home, host).call(
                    "PATCH", f"/spaces/{sid}", 200, json={"title": "Across"}
                )
                for stream in (ada_0, ada_1, bob_1):
                    await stream.wait_for("space_updated", title="Across")

                # The speaker and two listeners, their offers made to different workers: the
                # one made to the other worker is forwarded to the space's home worker.
                speaker = await MediaClient.connect(via(server, 1 - home, voice), sid, tone=440.0)
                ears = [
                    await MediaClient.connect(via(server, w, p), sid)
                    for w, p in ((0, ada), (1, bob))
                ]
                try:
                    for ear in ears:
                        await ear.hearing.until("hears", 440.0, timeout=10)
                    # Ada is suspended through the shared port: both her sockets close at once.
                    started = time.monotonic()
                    await suspend(mod, "ada")
                    for stream in (ada_0, ada_1):
                        assert await stream.wait_closed(timeout=1.0) == 4401
                    assert time.monotonic() - started < 1.0
                    await wait_until(lambda: ears[0].pc.connectionState == "closed", timeout=1.0)
                    assert bob_1.close_code is None
                finally:
                    for client in (speaker, *ears):
                        await client.close()
            # Joins, sockets, media and a suspension through both, and neither worker found its
            # counts other than its tally says (services/connection_counts.py would warn).
            assert "were not counted" not in server.log_path.read_text()
            for person in people:
                await person.close()


def worker_pid(server: ServerProcess, index: int) -> int:
    """The process of worker `index`: the child of the server holding its Unix socket."""
    path = str(worker_socket(server.log_path.parent, index))
    listening = {
        f"socket:[{fields[6]}]"
        for fields in (line.split() for line in Path("/proc/net/unix").read_text().splitlines())
        if fields[-1] == path
    }
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    for child in children:
        for fd in Path(f"/proc/{child}/fd").iterdir():
            with contextlib.suppress(OSError):
                if os.readlink(fd) in listening:
                    return int(child)
    raise AssertionError(f"no worker of {server.pid} listens on {path}")


async def test_a_worker_started_again_lets_go_of_who_only_its_previous_life_held() -> None:
    """A worker killed with a listener's socket open is started again by its parent; what it
    counted then is taken back, so the listener leaves after the presence timeout while those
    the other worker holds stay. (Before, on a node with a configured id, its counts stayed
    and held the listener for good.)"""
    async with fresh_postgres_database() as url:
        env = {
            "PARLEY_DATABASE_URL": url,
            "PARLEY_REDIS_URL": REDIS_URL,
            "PARLEY_PRESENCE_TIMEOUT_SECONDS": "1",
            # One id for both workers, as an operator names a node: the node never goes quiet,
            # so no other node would take back what the dead worker counted.
            "PARLEY_NODE_ID": "node-one",
        }
        with server_process(args=["--workers", "2"], **env) as server:
            await every_worker_answers(server, 2)
            host, fan = [await Person.sign_up(server.base, h) for h in ("host", "fan")]
            sid = (await host.call("POST", "/spaces", 201, json={"title": "Restarted"}))["id"]
            await via(server, 1, fan).call("POST", f"/spaces/{sid}/join", 200)
            async with events_on(server, 0, host, sid) as watching:
                fan_on_1 = await events_on(server, 1, fan, sid).__aenter__()
                try:
                    for stream in (watching, fan_on_1):
                        await stream.wait_for("snapshot")
                    os.kill(worker_pid(server, 1), signal.SIGKILL)
                    left = await watching.wait_for(
                        "participant_left", timeout=30, account_id=fan.id
                    )
                    assert left["data"]["reason"] == "dropped"
                    space = await host.call("GET", f"/spaces/{sid}", 200)
                    assert (space["state"], space["listener_count"]) == ("live", 0)
                    assert "worker 1 exited" in server.log_path.read_text()
                finally:
                    await fan_on_1.__aexit__(None, None, None)
            for person in (host, fan):
                await person.close()


def test_several_workers_are_refused_on_sqlite_or_without_redis(tmp_path: Path) -> None:
    def serve(**env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "parley.cli", "serve", "--workers", "2"],
            env={
                "PARLEY_DATA_DIR": str(tmp_path),
                "PATH": os.environ.get("PATH", ""),
                "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
                **env,
            },
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    on_sqlite = serve(PARLEY_REDIS_URL=REDIS_URL)
    assert on_sqlite.returncode == 2 and "needs PostgreSQL" in on_sqlite.stderr
    no_bus = serve(PARLEY_DATABASE_URL="postgresql://postgres@127.0.0.1:5432/x")
    assert no_bus.returncode == 2 and "needs Redis" in no_bus.stderr
