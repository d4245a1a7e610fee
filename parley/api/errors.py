"""Every error leaves as an RFC 9457 problem document with a stable `code`."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from parley.api.schemas.moderation import NoticeOut
from parley.core.errors import RuleViolation, SuspendedSignIn, Unavailable
from parley.core.location import LocationTooRecent
from parley.core.moderation_records import NoticeRead
from parley.core.ratelimit import RateLimited
from parley.core.tokens import InsufficientScope
from parley.services.features import FeatureDisabled
from parley.services.link_checks import LinkBlocked
from parley.services.listener_cap import ListenerCapReached
from parley.services.recordings import RecordingDeleted

log = logging.getLogger(__name__)

PROBLEM = "application/problem+json"

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def problem(status: int, code: str, title: str, **extra: Any) -> JSONResponse:
    body = {"type": f"/problems/{code}", "title": title, "status": status, "code": code, **extra}
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if "retry_after" in extra:
        # 429 (a rate limit) and 503 (busy): when to come back, for clients that read headers.
        headers["Retry-After"] = str(extra["retry_after"])
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers or None)


async def _rule_violation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RuleViolation)
    return problem(exc.status, exc.code, exc.message, **_members(exc))


def _members(refusal: RuleViolation) -> dict[str, Any]:
    """What a refusal tells beside its code and title, as members of its problem document."""
    match refusal:
        case SuspendedSignIn(notice=notice):
            shown = NoticeOut.of(NoticeRead(notice)).model_dump(mode="json") if notice else None
            return {"notice": shown, "appeal_token": refusal.appeal_token}
        case RateLimited(limit=limit):
            return {"limit": limit.name.value, "retry_after": refusal.retry_after}
        case LocationTooRecent(policy=policy):
            publish_after = refusal.publish_after.isoformat()
            return {"rule": policy.rule, "reason": policy.reason, "publish_after": publish_after}
        case ListenerCapReached():
            return {"hls_url": refusal.hls_url}
        case FeatureDisabled(feature=feature):
            return {"feature": feature.value}
        case InsufficientScope(needed=needed):
            return {"needed": needed.value if needed else None}
        case LinkBlocked(check=check):
            return {
                "rule": check.rule,
                "rule_id": check.rule_id,
                "url": refusal.link,
                "reason": check.reason,
            }
        case RecordingDeleted():
            return {"deletion": refusal.deletion}
        case Unavailable(retry_after=int() as seconds):
            return {"retry_after": seconds}
    return {}


async def _validation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type")}
        for e in exc.errors()
    ]
    if any(e["type"] == "json_invalid" for e in errors):
        return problem(400, "malformed_json", "The request body is not valid JSON")
    return problem(422, "invalid_request", "The request is not valid", errors=errors)


async def _http(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 400 and isinstance(exc.__cause__, (UnicodeDecodeError, RecursionError)):
        # FastAPI's answer to a JSON body that is not UTF-8, or nested too deep to parse.
        return problem(400, "malformed_json", "The request body is not valid JSON")
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    return problem(exc.status_code, code, str(exc.detail))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem(500, "internal_error", "Something went wrong on our side")


def install(app: FastAPI) -> None:
    app.add_exception_handler(RuleViolation, _rule_violation)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
