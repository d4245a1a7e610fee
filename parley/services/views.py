"""What the API shows of a space: plain dicts in the shape of API.md."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from parley.core.accounts import Account
from parley.core.links.render import TextPart
from parley.core.moderation_records import Notice
from parley.core.spaces.model import Participant, Role, Space


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def participant_view(p: Participant) -> dict[str, Any]:
    return {
        "account_id": p.account_id,
        "handle": p.handle,
        "role": p.role.value,
        "muted": p.muted,
        "hand_raised": p.hand_raised,
        "invited": p.invited,
        "present": p.present,
    }


def parts_view(parts: Sequence[TextPart]) -> list[dict[str, str | None]]:
    """User text as runs of plain text and links (see core.links.render)."""
    return [{"text": p.text, "href": p.href} for p in parts]


def space_view(
    space: Space,
    stage: list[Participant],
    host: Account | None,
    *,
    title_parts: Sequence[TextPart],
    description_parts: Sequence[TextPart],
) -> dict[str, Any]:
    by_role: dict[Role, list[dict[str, Any]]] = {role: [] for role in Role}
    for p in stage:
        by_role[p.role].append(participant_view(p))
    return {
        "id": space.id,
        "title": space.title,
        "description": space.description,
        "title_parts": parts_view(title_parts),
        "description_parts": parts_view(description_parts),
        "topics": list(space.topics),
        "state": space.state.value,
        "host": host.public() if host else {"id": space.host_id},
        "host_present": space.host_absent_since is None,
        "cohosts": by_role[Role.COHOST],
        "speakers": by_role[Role.SPEAKER],
        "stage": [participant_view(p) for p in stage],
        "listener_count": space.listener_count,
        "recording": space.recording,
        "speak_policy": space.speak_policy.value,
        "scheduled_start": _time(space.scheduled_start),
        "started_at": _time(space.started_at),
        "ended_at": _time(space.ended_at),
        "created_at": _time(space.created_at),
        "seq": space.seq,
    }


def notice_document(notice: Notice) -> dict[str, str | None]:
    """A moderation notice as the problem document refusing a suspended account shows it (the
    routes that list notices render `NoticeRead` themselves)."""
    return {
        "id": notice.id,
        "action": notice.action,
        "rule": notice.rule,
        "reason": notice.reason,
        "text": notice.text,
        "until": _time(notice.until),
        "created_at": _time(notice.created_at),
        "appeal_id": None,
        "appeal_decision": None,
    }
