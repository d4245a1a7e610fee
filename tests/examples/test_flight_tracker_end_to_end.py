"""The flight tracker end to end: a real `parley serve` in a subprocess, a bot with a token
made through the API, and the tracker run as its own program over the recorded file (one
server for both runs: a fresh `parley serve` takes a while to start on a busy machine). Without
a location policy its posts appear at once with their place and the Automated label; with a
24 h policy the server holds them, each until 24 h after its aircraft was seen."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.clients import TLS
from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "a long password"


def env(data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PARLEY_DATA_DIR": str(data_dir),
        "PARLEY_ARGON2_TIME_COST": "1",
        "PARLEY_ARGON2_MEMORY_KIB": "64",
        "PARLEY_LOG_LEVEL": "warning",
    }


@pytest.fixture
def parley_serve(tmp_path: Path) -> Iterator[str]:
    made = subprocess.run(
        [sys.executable, "-m", "parley.cli", "admin", "create-user", "mod",
         "--password", PASSWORD, "--admin"],
        env=env(tmp_path), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "parley.cli", "serve", "--port", str(port)],
        env=env(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1, verify=TLS).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "parley serve did not answer"
            time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=20)


def session(base: str, handle: str, *, sign_up: bool = True) -> httpx.Client:
    http = httpx.Client(base_url=f"{base}/api/v1", timeout=10, verify=TLS)
    if sign_up:
        body = {"handle": handle, "password": PASSWORD, "display_name": handle}
        assert http.post("/accounts", json=body).status_code == 201
    r = http.post("/sessions", json={"handle": handle, "password": PASSWORD})
    assert r.status_code == 201, r.text
    http.headers["authorization"] = f"Bearer {r.json()['token']}"
    return http


def tracker(base: str, token: str, tmp_path: Path, *extra: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-m", "examples.flight_tracker", "--server", base,
         "--watch", "a835af=N628TS", *extra],
        env={**env(tmp_path), "PARLEY_TOKEN": token}, cwd=ROOT,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def make_bot(owner: httpx.Client) -> str:
    body = {"handle": "jetwatch", "display_name": "Jet watch"}
    assert owner.post("/me/bots", json=body).status_code == 201
    scopes = ["posts:write", "posts:read"]
    made = owner.post("/me/tokens", json={"name": "tracker", "scopes": scopes, "bot": "jetwatch"})
    assert made.status_code == 201, made.text
    token: str = made.json()["token"]
    return token


def test_the_tracker_posts_each_event_with_its_place_held_when_the_policy_says(
    parley_serve: str, tmp_path: Path
) -> None:
    owner = session(parley_serve, "jack")
    token = make_bot(owner)

    printed = tracker(parley_serve, token, tmp_path)
    assert [line.split(" [")[0] for line in printed] == [
        "posted: N628TS took off from Brownsville (KBRO) at 16:30 UTC",
        "posted: N628TS landed at Austin-Bergstrom (KAUS) at 17:42 UTC, flight time 1 h 12 min",
    ]
    posts: list[dict[str, Any]] = owner.get("/accounts/jetwatch/posts").json()
    landed, took_off = posts
    assert landed["text"].startswith("N628TS landed at Austin-Bergstrom (KAUS) at 17:42 UTC")
    assert landed["author"]["automated"]["owner"]["handle"] == "jack"
    assert landed["place"]["label"] == "N628TS"
    assert abs(landed["place"]["latitude"] - 30.18) < 0.02
    assert abs(landed["place"]["longitude"] + 97.67) < 0.02
    assert datetime.fromisoformat(landed["place"]["observed_at"]).strftime("%H:%M") == "17:42"
    assert took_off["place"]["label"] == "N628TS"

    # With a 24 h policy, the same flight replayed as if just seen is held by the server.
    mod = session(parley_serve, "mod", sign_up=False)
    policy = {"delay_seconds": 86400, "rule": "aircraft-positions", "reason": "Live positions"}
    assert mod.put("/admin/policies/location", json=policy).status_code == 200
    started = datetime.now().astimezone()
    printed = tracker(parley_serve, token, tmp_path, "--as-if-now")
    assert printed[0].startswith("location policy aircraft-positions")
    assert [line.startswith("held (aircraft-positions) until ") for line in printed[1:]] == [
        True,
        True,
    ]
    assert owner.get("/accounts/jetwatch/posts").json() == posts  # none more
    bot = httpx.Client(
        base_url=f"{parley_serve}/api/v1",
        headers={"authorization": f"Bearer {token}"},
        verify=TLS,
    )
    held = bot.get("/me/held-posts").json()
    assert [h["text"].split(" at ")[0] for h in held] == ["N628TS took off from Brownsville (KBRO)",
                                                          "N628TS landed"]  # fmt: skip
    for one in held:
        seen = datetime.fromisoformat(one["place"]["observed_at"])
        assert datetime.fromisoformat(one["publish_at"]) == seen + timedelta(days=1)
        assert started - timedelta(hours=2) < seen <= started + timedelta(minutes=1)
