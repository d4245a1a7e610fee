"""The little of Parley's public API the tracker uses, over HTTP with an API token (scope
`posts:write`; `posts:read` to list its held posts)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

RETRIES_WHEN_LIMITED = 5


@dataclass(frozen=True)
class Place:
    latitude: float
    longitude: float
    observed_at: datetime
    label: str


@dataclass(frozen=True)
class Published:
    post_id: str


@dataclass(frozen=True)
class Held:
    """The server's location policy keeps the post back until `publish_at` (it publishes it
    then by itself)."""

    post_id: str
    publish_at: datetime
    rule: str


@dataclass(frozen=True)
class LocationPolicy:
    delay: timedelta
    rule: str
    reason: str


class ParleyError(Exception):
    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        super().__init__(f"{status} {problem.get('code')}: {problem.get('title')}")
        self.status = status
        self.problem = problem


class ParleyClient:
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.http = httpx.Client(
            base_url=base_url.rstrip("/") + "/api/v1",
            headers={"authorization": f"Bearer {token}", "user-agent": "parley-flight-tracker"},
            timeout=10.0,
            transport=transport,
        )
        self.sleep = sleep

    def close(self) -> None:
        self.http.close()

    def location_policy(self) -> LocationPolicy:
        """The server's policy, public on /status."""
        policy = self._json("GET", "/status")["location_policy"]
        return LocationPolicy(
            timedelta(seconds=policy["delay_seconds"]), policy["rule"], policy["reason"]
        )

    def post(self, text: str, place: Place) -> Published | Held:
        """Post with the place attached. A place the policy says is too recent is held by the
        server and published when allowed (202), never dropped or refused."""
        body = {
            "text": text,
            "place": {
                "latitude": round(place.latitude, 5),
                "longitude": round(place.longitude, 5),
                "observed_at": place.observed_at.isoformat(),
                "label": place.label,
            },
            "when_too_recent": "hold",
        }
        response = self._send("POST", "/posts", json=body)
        made = response.json()
        if response.status_code == 202:
            return Held(made["id"], datetime.fromisoformat(made["publish_at"]), made["rule"])
        return Published(made["id"])

    def _json(self, method: str, path: str) -> Any:
        return self._send(method, path).json()

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The answer, after waiting out rate limits (429 says how long: Retry-After)."""
        for _ in range(RETRIES_WHEN_LIMITED):
            response = self.http.request(method, path, **kwargs)
            if response.status_code != 429:
                break
            self.sleep(float(response.headers.get("retry-after", "1")))
        if response.status_code >= 400:
            try:
                problem = response.json()
            except ValueError:
                problem = {"code": "unknown", "title": response.text[:200]}
            raise ParleyError(response.status_code, problem)
        return response
