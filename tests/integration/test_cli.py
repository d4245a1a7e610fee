"""The command line: create an admin, seed the demo, serve."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from parley.config import Settings
from parley.demo import PASSWORD, seed
from tests.support.servers import TEST_SETTINGS, free_port, serve


def cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PARLEY_DATA_DIR": str(data_dir),
        "PARLEY_ARGON2_TIME_COST": "1",
        "PARLEY_ARGON2_MEMORY_KIB": "64",
        **extra,
    }


def parley(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "parley.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
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
        async with httpx.AsyncClient(base_url=f"{server.base_url}/api/v1") as http:
            r = await http.post("/sessions", json={"handle": "root", "password": "a long password"})
            assert r.status_code == 201, r.text


async def test_demo_seeds_a_live_space_once(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, **TEST_SETTINGS)
    first = await seed(settings)
    second = await seed(settings)
    assert first == second  # running the demo again reuses what it made
    with serve(data_dir=tmp_path) as server:
        async with httpx.AsyncClient(base_url=f"{server.base_url}/api/v1") as http:
            live = (await http.get("/spaces", params={"state": "live"})).json()
            assert [s["id"] for s in live] == [first]
            assert live[0]["host"]["handle"] == "ada"
            assert [c["handle"] for c in live[0]["cohosts"]] == ["grace"]
            assert [s["handle"] for s in live[0]["speakers"]] == ["alan"]
            r = await http.post("/sessions", json={"handle": "alan", "password": PASSWORD})
            assert r.status_code == 201


def test_serve_answers_on_the_given_port(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "parley.cli", "serve", "--port", str(port)],
        env=cli_env(tmp_path, PARLEY_LOG_LEVEL="warning"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "parley serve did not answer"
                time.sleep(0.1)
        assert r.status_code == 200
        assert r.json() == {"ready": True, "database": True, "bus": True, "media": True}
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
        assert page.status_code == 200 and "Parley" in page.text
    finally:
        proc.terminate()
        proc.wait(timeout=20)
