"""Rate limits in tests: settings with limits made tight, the limiter's clock, a 429 checked."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.problems import problem_defect
from tests.support.servers import TEST_SETTINGS, ServerThread

GENEROUS: dict[str, str] = TEST_SETTINGS["rate_limit_overrides"]


def limits(**rates: str) -> dict[str, Any]:
    """Settings with these limits tight (e.g. posts="3/min") and the rest out of the way, with
    the test client's loopback peer trusted as a proxy, so each test can play many addresses."""
    return {
        "rate_limit_overrides": {**GENEROUS, **rates},
        "trusted_proxies": "127.0.0.1/32",
    }


class Clock:
    """The limiter's time, moved by the test."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def moved(server: ServerThread, clock: Clock) -> ServerThread:
    server.node.limits.clock = clock
    return server


def assert_rate_limited(r: httpx.Response, limit: str) -> int:
    assert r.status_code == 429, r.text
    assert problem_defect(429, r.headers.get("content-type"), r.content) is None
    body = r.json()
    assert body["code"] == "rate_limited" and body["limit"] == limit
    retry_after = int(r.headers["retry-after"])
    assert retry_after == body["retry_after"] and retry_after >= 1
    return retry_after
