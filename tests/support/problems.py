"""RFC 9457 problem documents: what every refusal from the API must look like."""

from __future__ import annotations

import json
from typing import Any

import httpx

PROBLEM = "application/problem+json"


def problem_defect(status: int, content_type: str | None, body: bytes) -> str | None:
    """Why a 4xx/5xx response is not a proper problem document, or None when it is one."""
    if not (content_type or "").startswith(PROBLEM):
        return f"content-type is {content_type!r}, not {PROBLEM}"
    try:
        document = json.loads(body)
    except ValueError:
        return f"the body is not JSON: {body[:200]!r}"
    if not isinstance(document, dict):
        return f"the body is not a JSON object: {body[:200]!r}"
    code = document.get("code")
    if not isinstance(code, str) or not code:
        return f"no machine `code` in {document!r}"
    if document.get("status") != status:
        return f"`status` {document.get('status')!r} differs from the HTTP status {status}"
    if not isinstance(document.get("title"), str) or not isinstance(document.get("type"), str):
        return f"`type` or `title` missing in {document!r}"
    return None


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response is a problem document with this status and code; returns the document."""
    where = f"{response.request.method} {response.request.url}"
    assert response.status_code == status, f"{where}: {response.status_code} {response.text}"
    defect = problem_defect(status, response.headers.get("content-type"), response.content)
    assert defect is None, f"{where}: {defect}"
    document: dict[str, Any] = response.json()
    assert document["code"] == code, f"{where}: {response.text}"
    return document


async def refused(
    http: httpx.AsyncClient, method: str, path: str, status: int, code: str, **kw: Any
) -> dict[str, Any]:
    """Make the request and assert it is refused with this status and problem code."""
    return assert_problem(await http.request(method, path, **kw), status, code)


def raw_json(payload: Any) -> dict[str, Any]:
    """Request arguments sending `payload` as ASCII-escaped JSON, so that strings a UTF-8 encoder
    would refuse (lone surrogates) still reach the server, as `\\udXXX` escapes."""
    return {
        "content": json.dumps(payload, ensure_ascii=True).encode("ascii"),
        "headers": {"content-type": "application/json"},
    }
