"""Every route describes its response body in /openapi.json, so clients and Schemathesis can
check what they get; the exceptions answer no JSON at all."""

from __future__ import annotations

import json
from typing import Any

from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import WebSocketRoute

from parley.api.app import create_app

# Routes whose success is not a JSON body: Prometheus' text format, the redirector (a redirect,
# or an HTML warning or refusal page), a space's HLS files (playlists and audio segments), its
# share page (HTML), and its recording's files and clips' audio (playlist, segments, M4A).
# 204s have no body and need no exception.
NOT_JSON = {
    ("GET", "/metrics"),
    ("GET", "/l/{link_id}"),
    ("GET", "/spaces/{space_id}/hls/{name}"),
    ("GET", "/s/{space_id}"),
    ("GET", "/spaces/{space_id}/recording/{name}"),
    ("GET", "/spaces/{space_id}/recording/download"),
    ("GET", "/clips/{clip_id}/audio"),
    ("GET", "/spaces/{space_id}/transcript.vtt"),
}

OPENAPI = create_app().openapi()


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, operations in OPENAPI["paths"].items()
        for method, operation in operations.items()
    ]


def _success_bodies(operation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The JSON schema of each 2xx response that has a JSON body, by status."""
    return {
        status: response["content"]["application/json"].get("schema", {})
        for status, response in operation["responses"].items()
        if status.startswith("2") and "application/json" in response.get("content", {})
    }


def test_every_json_response_has_a_named_model() -> None:
    undescribed = []
    for method, path, operation in _operations():
        for status, schema in _success_bodies(operation).items():
            # A named model is a `$ref`; a bare or free-form object describes nothing.
            if "$ref" not in json.dumps(schema):
                undescribed.append(f"{method} {path} {status}")
    assert not undescribed, undescribed


def test_only_the_known_exceptions_answer_without_json() -> None:
    without = set()
    for method, path, operation in _operations():
        statuses = [s for s in operation["responses"] if s.startswith("2")]
        if statuses == ["204"]:
            continue
        if not _success_bodies(operation):
            without.add((method, path.removeprefix("/api/v1")))
    assert without == NOT_JSON


def test_every_route_declares_its_response_model() -> None:
    """On the route itself, not only in the schema: FastAPI then validates what is returned. Not
    in OpenAPI: the event stream (a WebSocket, in API.md), the API reference page, HEAD on
    HLS, recording and clip files (their GET is documented), and what nodes call on each other
    (/internal/v1, not for clients)."""
    undeclared: list[str] = []
    hidden: list[str] = []
    for context in iter_route_contexts(create_app().routes):
        route = context.original_route
        if isinstance(route, WebSocketRoute):  # FastAPI's, or a plain Starlette one
            hidden.append(str(context.path))
        elif isinstance(route, APIRoute):
            path = str(context.path).removeprefix("/api/v1")
            if not route.include_in_schema:
                hidden.append(path)
            elif route.response_model is None and route.status_code != 204:
                undeclared += [path for m in route.methods or () if (m, path) not in NOT_JSON]
    assert not undeclared, undeclared
    assert sorted(hidden) == [
        "/api/v1/spaces/{space_id}/events",
        "/clips/{clip_id}/audio",
        "/docs",
        "/internal/v1/relay/{space_id}",
        "/internal/v1/spaces/{space_id}/media",
        "/internal/v1/spaces/{space_id}/media/{account_id}/hang-up",
        "/spaces/{space_id}/hls/{name}",
        "/spaces/{space_id}/recording/download",
        "/spaces/{space_id}/recording/{name}",
    ]
