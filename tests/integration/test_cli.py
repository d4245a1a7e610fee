"""The command line: create an admin, seed the demo, serve."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from parley.config import Settings
from parley.core.actors import OPERATOR
from parley.demo import PASSWORD, run_demo, seed, seed_bot
from tests.support.cli import cli_env, parley, parley_here
from tests.support.clients import TLS, Person, http_client
from tests.support.servers import (
    REDIS_URL,
    TEST_SETTINGS,
    ServerThread,
    free_port,
    serve,
    wait_until,
)


async def test_create_user_then_sign_in(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    made = parley(
        "admin", "create-user", "root", "--password", "a long password", "--admin", env=env
    )
    assert made.returncode == 0, made.stderr
    assert "created admin @root" in made.stdout

    again = parley("admin", "create-user", "ROOT", "--password", "a long password", env=env)
    assert again.returncode == 2
    assert "handle_taken" in again.stderr

    with serve(data_dir=tmp_path) as server:
        async with http_client(base_url=f"{server.base_url}/api/v1") as http:
            r = await http.post("/sessions", json={"handle": "root", "password": "a long password"})
            assert r.status_code == 201, r.text


async def test_demo_seeds_a_live_space_once(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, **TEST_SETTINGS)
    first = await seed(settings)
    second = await seed(settings)
    assert first == second  # running the demo again reuses what it made
    with serve(data_dir=tmp_path) as server:
        async with http_client(base_url=f"{server.base_url}/api/v1") as http:

            async def shown() -> None:
                live = (await http.get("/spaces", params={"state": "live"})).json()
                assert [s["id"] for s in live] == [first]
                assert live[0]["host"]["handle"] == "ada"
                assert [c["handle"] for c in live[0]["cohosts"]] == ["grace"]
                assert [s["handle"] for s in live[0]["speakers"]] == ["alan"]
                assert live[0]["listener_count"] == 1  # Katherine, her hand up

            await shown()
            # Nobody opens the room: it stays as seeded past every wait and timeout.
            server.node.clock.ahead = timedelta(hours=2)
            swept = server.node.sweeps_done
            await wait_until(lambda: server.node.sweeps_done >= swept + 3)
            await shown()
            r = await http.post("/sessions", json={"handle": "alan", "password": PASSWORD})
            assert r.status_code == 201


async def test_demo_gives_ada_a_flight_tracker_bot_with_one_live_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(data_dir=tmp_path, **TEST_SETTINGS)
    first = await run_demo(settings)
    # What it prints leads to the space's page, not to its JSON.
    space_id = await seed(settings)
    assert f"http://127.0.0.1:{settings.port}/#/spaces/{space_id}\n" in capsys.readouterr().out
    second = await seed_bot(settings)  # a second run revokes the first run's token
    with serve(data_dir=tmp_path) as server:
        ada = await Person.sign_in(server.base_url, "ada", PASSWORD)
        (bot,) = await ada.call("GET", "/me/bots", 200)
        assert bot["handle"] == "jetwatch" and bot["automated"]["owner"]["handle"] == "ada"
        assert len(await ada.call("GET", "/me/tokens", 200)) == 1
        async with http_client(base_url=f"{server.base_url}/api/v1") as http:
            body = {"text": "N628TS took off from Brownsville (KBRO) at 16:30 UTC"}
            stale = await http.post(
                "/posts", json=body, headers={"authorization": f"Bearer {first}"}
            )
            assert stale.status_code == 401
            r = await http.post("/posts", json=body, headers={"authorization": f"Bearer {second}"})
            assert r.status_code == 201, r.text
        (post,) = await ada.call("GET", "/timeline", 200)
        assert post["author"]["handle"] == "jetwatch"
        await ada.close()


def test_serve_answers_on_the_given_port_and_logs_at_the_given_level(tmp_path: Path) -> None:
    port = free_port()
    output = open(tmp_path / "serve.log", "w+b")  # noqa: SIM115 - read back below
    proc = subprocess.Popen(
        [sys.executable, "-m", "parley.cli", "serve", "--port", str(port)],
        env=cli_env(tmp_path, PARLEY_LOG_LEVEL="warning"),
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1, verify=TLS)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "parley serve did not answer"
                time.sleep(0.1)
        assert r.status_code == 200
        assert r.json() == {"ready": True, "database": True, "bus": True, "media": True}
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=5, verify=TLS)
        assert page.status_code == 200 and "Parley" in page.text
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        output.close()
    logged = (tmp_path / "serve.log").read_text()
    # At "warning", no access log: a line per request is what the setting turns off.
    assert "Parley serving on" in logged and "GET /readyz" not in logged, logged


async def test_admin_commands_reach_a_running_server(tmp_path: Path) -> None:
    """The CLI works on the database; a running node (in-process bus) enforces what it did
    within a sweep: the suspended account's socket closes, the live space ends on `feature off`."""
    env = cli_env(tmp_path)
    with serve(data_dir=tmp_path) as server:
        host = await Person.sign_up(server.base_url, "host")
        fan = await Person.sign_up(server.base_url, "fan")
        sid = (await host.call("POST", "/spaces", 201, json={"title": "Live"}))["id"]
        await fan.call("POST", f"/spaces/{sid}/join", 200)
        async with fan.events(sid) as fan_stream, host.events(sid) as host_stream:
            await fan_stream.wait_for("snapshot")
            done = await parley_here(
                "admin", "suspend", "fan", "--rule", "spam", "--reason", "Links to scams", env=env
            )
            assert done.returncode == 0, done.stderr
            assert "suspended @fan" in done.stdout and "spam" in done.stdout
            assert await fan_stream.wait_closed(timeout=2) == 4401
            await host_stream.wait_for("participant_removed", account_id=fan.id)

            off = await parley_here(
                "admin", "feature", "off", "spaces", "--message", "Back soon", env=env
            )
            assert off.returncode == 0, off.stderr
            assert "1 live spaces ended" in off.stdout
            ended = await host_stream.wait_for("space_ended", timeout=3)
            assert ended["data"]["message"] == "Back soon"

        audit = await parley_here("admin", "audit", env=env)
        assert audit.returncode == 0, audit.stderr
        lines = audit.stdout.splitlines()
        assert "feature_off" in lines[0] and "suspend" in lines[1] and "rule=spam" in lines[1]
        back = await parley_here(
            "admin", "unsuspend", "fan", "--reason", "Appeal accepted", env=env
        )
        assert back.returncode == 0 and back.stdout.strip() == "unsuspended @fan", back.stderr
        bad = await parley_here(
            "admin", "suspend", "ghost", "--rule", "spam", "--reason", "x", env=env
        )
        assert bad.returncode == 2 and "account_not_found" in bad.stderr
        for person in (host, fan):
            await person.close()


async def test_a_limit_from_the_command_line_reaches_a_running_node_within_a_sweep(
    tmp_path: Path,
) -> None:
    """No bus is shared with the command line: the node's sweep reads the limit (and its end)
    from the audit log, not after the 30 s its cache of sessions keeps an account, and tells
    the account's open room, as a limit from the API does."""
    env = cli_env(tmp_path)
    with serve(data_dir=tmp_path, session_cache_seconds=30) as server:
        host, fan, sid = await a_fan_in_a_room(server)
        async with fan.events(sid) as room:
            await room.wait_for("snapshot")
            done = await limit_the_fan(env)
            assert "limited @fan" in done.stdout and "spam" in done.stdout
            await room.wait_for("account", state="limited", timeout=3)
            await wait_until(lambda: _posting(fan, 403), timeout=3)
            back = await parley_here("admin", "unlimit", "fan", "--reason", "Served", env=env)
            assert back.returncode == 0 and "unlimited @fan" in back.stdout, back.stderr
            await room.wait_for("account", state="active", timeout=3)
            await wait_until(lambda: _posting(fan, 201), timeout=3)
        for person in (host, fan):
            await person.close()
        # A suspension over a limit: lifted, the limit holds again, and the operator is told.
        node = server.node
        server.call(node.account_limits.limit(OPERATOR, "fan", "spam", "Again"))
        server.call(node.moderation.suspend(OPERATOR, "fan", "spam", "Worse"))
        back = await parley_here("admin", "unsuspend", "fan", "--reason", "Served", env=env)
        assert back.returncode == 0, back.stderr
        assert back.stdout.strip() == "unsuspended @fan, still limited"


async def test_a_limit_set_before_the_nodes_first_sweep_still_reaches_it(tmp_path: Path) -> None:
    """The node reads the limits other processes set from the audit log, after the newest entry
    there when it started: it took one set before its first sweep for old before, and the
    account went on posting from the node's cache of sessions."""
    env = cli_env(tmp_path)
    # No sweep of its own: the test runs the one that matters.
    with serve(data_dir=tmp_path, session_cache_seconds=30, sweep_interval_seconds=3600) as server:
        host, fan, sid = await a_fan_in_a_room(server)
        async with fan.events(sid) as room:
            await room.wait_for("snapshot")
            await limit_the_fan(env)
            server.call(server.node.sweep())
            await room.wait_for("account", state="limited", timeout=3)
            assert await _posting(fan, 403)
        for person in (host, fan):
            await person.close()


async def a_fan_in_a_room(server: ServerThread) -> tuple[Person, Person, str]:
    """A host's live space with @fan in it, whose session the node holds in its cache."""
    host, fan = [await Person.sign_up(server.base_url, h) for h in ("host", "fan")]
    sid: str = (await host.call("POST", "/spaces", 201, json={"title": "Open mic"}))["id"]
    await fan.call("POST", f"/spaces/{sid}/join", 200)
    await fan.call("POST", "/posts", 201, json={"text": "Cached now"})
    return host, fan, sid


async def limit_the_fan(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = await parley_here("admin", "limit", "fan", "--rule", "spam", "--reason", "Scam", env=env)
    assert done.returncode == 0, done.stderr
    return done


async def _posting(person: Person, status: int) -> bool:
    return (await person.http.post("/posts", json={"text": "Again"})).status_code == status


@pytest.mark.redis
async def test_drain_refuses_without_a_bus_or_a_running_node(tmp_path: Path) -> None:
    """The order travels on Redis, to a node that advertises itself: anything else is said,
    not silently ignored (the node drains in tests/integration/test_relay.py)."""
    env = cli_env(tmp_path)
    no_bus = await parley_here("admin", "drain", "a", env=env)
    assert no_bus.returncode == 2
    assert "PARLEY_REDIS_URL" in no_bus.stderr
    nobody = await parley_here("admin", "drain", "a", env={**env, "PARLEY_REDIS_URL": REDIS_URL})
    assert nobody.returncode == 2
    assert "no node a is running (running: none" in nobody.stderr
    listed = await parley_here("admin", "nodes", env=env)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout == ""


async def test_a_limit_that_is_no_count_is_a_usage_error(tmp_path: Path) -> None:
    """SQLite lists everything for `--limit -1` and PostgreSQL refuses it with a traceback;
    neither is what was asked: argparse says so before any work."""
    env = cli_env(tmp_path)
    for command in (["audit"], ["appeals"], ["link-rule", "list"]):
        for limit in ("-1", "0", "many"):
            done = await parley_here("admin", *command, "--limit", limit, env=env)
            assert done.returncode == 2, (command, limit, done.stdout)
            assert "not a count of at least 1" in done.stderr, done.stderr
    listed = await parley_here("admin", "audit", "--limit", "3", env=env)
    assert listed.returncode == 0 and listed.stdout == "", listed.stderr
