"""Transcripts of spaces: the final captions as WebVTT for listeners and players, and for
moderators a space's lines around a moment and a search over every transcript."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from parley.api.deps import CallerDep, NodeDep
from parley.api.schemas.captions import (
    ReportTranscriptOut,
    TranscriptHitOut,
    TranscriptLineOut,
)
from parley.core.captions import webvtt
from parley.core.transcripts import REPORT_WINDOW_SECONDS

router = APIRouter(tags=["captions"])


@router.get(
    "/spaces/{space_id}/transcript.vtt",
    response_class=Response,
    summary="The space's final captions as WebVTT, times from the space's start",
    responses={200: {"content": {"text/vtt": {}}}, 404: {"description": "No such space"}},
)
async def transcript_vtt(space_id: str, caller: CallerDep, node: NodeDep) -> Response:
    lines = await node.captions.transcript(caller, space_id)
    return Response(webvtt(lines), media_type="text/vtt; charset=utf-8")


@router.get("/admin/spaces/{space_id}/transcript")
async def transcript_around(
    space_id: str,
    caller: CallerDep,
    node: NodeDep,
    at: Annotated[float, Query(ge=0, le=10**7)] = 0.0,
    seconds: Annotated[float, Query(gt=0, le=86_400)] = 86_400,
) -> list[TranscriptLineOut]:
    """Moderators: the transcript within `seconds` of `at` (seconds from the space's start);
    the whole of it by default."""
    lines = await node.captions.around(caller, space_id, at, seconds)
    return [TranscriptLineOut.of(line) for line in lines]


@router.get("/admin/transcripts")
async def search_transcripts(
    caller: CallerDep,
    node: NodeDep,
    q: Annotated[str, Query(min_length=2, max_length=100)],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[TranscriptHitOut]:
    """Moderators: transcript lines containing `q` (case-insensitive) of recorded spaces whose
    recording is kept, and of live spaces; each with its place in the recording if any."""
    return [TranscriptHitOut.of(hit) for hit in await node.transcripts.search(caller, q, limit)]


@router.get("/admin/reports/{report_id}/transcript")
async def report_transcript(
    report_id: str,
    caller: CallerDep,
    node: NodeDep,
    seconds: Annotated[float, Query(gt=0, le=3600)] = REPORT_WINDOW_SECONDS,
) -> ReportTranscriptOut:
    """Moderators: a reported space's transcript `seconds` either side of the report (two
    minutes by default), each line linking into the recording where it was recorded."""
    return ReportTranscriptOut.of(await node.transcripts.for_report(caller, report_id, seconds))
