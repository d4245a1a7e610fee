"""Recording and replay of a space, and clips. Reading needs no account (a signed-in one
removed from the space or blocked by its host is refused); the host starts and stops recording,
trims and deletes; moderators delete any recording, audited."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request, Response

from parley.api.deps import CallerDep, MaybeCallerDep, NodeDep
from parley.api.files import Endpoint, Responses, file_response, file_route
from parley.api.schemas.captions import TranscriptLineOut
from parley.api.schemas.recordings import (
    ClipOut,
    NewClip,
    RecordingOut,
    RecordingRemovalIn,
    TimelineOut,
    TrimIn,
)
from parley.api.schemas.spaces import SpaceOut
from parley.services.hls import HlsFile
from parley.services.transcripts import is_transcript_file

router = APIRouter(tags=["recordings"])

FILE_RESPONSES: Responses = {
    206: {"description": "A byte range"},
    404: {"description": "No such space, recording or file; or hidden (`recording_hidden`)"},
    410: {"description": "The recording was deleted (`recording_deleted`)"},
    416: {"description": "The range starts past the end"},
}


def _m4a_download(path: str, summary: str) -> Callable[[Endpoint], Endpoint]:
    """A route that serves one M4A file to download (its endpoint answers with `_download`)."""
    return file_route(router, path, summary=summary, types=("audio/mp4",), responses=FILE_RESPONSES)


def _download(found: HlsFile, request: Request, filename: str) -> Response:
    response = file_response(found, request)
    if response.status_code < 300:
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@router.post("/spaces/{space_id}/recording/start")
async def start_recording(space_id: str, caller: CallerDep, node: NodeDep) -> SpaceOut:
    """The host starts recording a live space: everyone is told (`recording_changed`)."""
    return SpaceOut.of(await node.spaces.set_recording(caller, space_id, True))


@router.post("/spaces/{space_id}/recording/stop")
async def stop_recording(space_id: str, caller: CallerDep, node: NodeDep) -> SpaceOut:
    return SpaceOut.of(await node.spaces.set_recording(caller, space_id, False))


@router.get("/spaces/{space_id}/recording")
async def recording(space_id: str, caller: MaybeCallerDep, node: NodeDep) -> RecordingOut:
    """What was recorded: length, size, and where to play (VOD playlist) or download it."""
    return RecordingOut.of(await node.recordings.info(caller, space_id))


@router.delete("/spaces/{space_id}/recording", status_code=204)
async def delete_recording(space_id: str, caller: CallerDep, node: NodeDep) -> None:
    """The host deletes the recording and its clips (stop recording first if live)."""
    await node.recordings.delete(caller, space_id)


@router.post("/spaces/{space_id}/recording/trim")
async def trim_recording(
    space_id: str, body: TrimIn, caller: CallerDep, node: NodeDep
) -> RecordingOut:
    """The host drops the start, up to the segment boundary at or before `seconds`."""
    return RecordingOut.of(await node.recordings.trim(caller, space_id, body.seconds))


@router.get("/spaces/{space_id}/recording/timeline")
async def recording_timeline(space_id: str, caller: MaybeCallerDep, node: NodeDep) -> TimelineOut:
    """Who was speaking when, and the reactions, in seconds of the replay."""
    return TimelineOut.of(await node.recordings.timeline(caller, space_id))


@router.get("/spaces/{space_id}/recording/transcript")
async def recording_transcript(
    space_id: str, caller: MaybeCallerDep, node: NodeDep
) -> list[TranscriptLineOut]:
    """The recording's transcript as lines, in seconds of the replay (its final captions; a
    trimmed start takes its lines along)."""
    return [TranscriptLineOut.of(line) for line in await node.transcripts.replay(caller, space_id)]


@_m4a_download(
    "/spaces/{space_id}/recording/download",
    "The whole recording as one M4A file (AAC, remuxed without re-encoding)",
)
async def download_recording(
    space_id: str, request: Request, caller: MaybeCallerDep, node: NodeDep
) -> Response:
    found = await node.recordings.download(caller, space_id)
    return _download(found, request, f"parley-{space_id}.m4a")


@file_route(
    router,
    "/spaces/{space_id}/recording/{name}",
    summary="The replay's VOD playlist (replay.m3u8) or one of its segments (seg-NNNNNN.ts); "
    "its transcript (transcript.vtt); the multivariant playlist with the transcript as subtitles "
    "(master.m3u8), the subtitles playlist (subtitles.m3u8) and its segments (sub-NNNNNN.vtt)",
    types=("application/vnd.apple.mpegurl", "video/mp2t", "text/vtt"),
    responses=FILE_RESPONSES,
)
async def recording_file(
    space_id: str, name: str, request: Request, caller: MaybeCallerDep, node: NodeDep
) -> Response:
    if is_transcript_file(name):
        found = await node.transcripts.file(caller, space_id, name)
    else:
        found = await node.recordings.file(caller, space_id, name)
    return file_response(found, request)


@router.delete("/admin/spaces/{space_id}/recording", status_code=204)
async def remove_recording(
    space_id: str, body: RecordingRemovalIn, caller: CallerDep, node: NodeDep
) -> None:
    """A moderator removes a recording, under a rule and with a reason: deleted to everyone at
    once; its host is told why and may appeal (an overturned removal brings it back)."""
    await node.recording_moderation.remove(caller, space_id, body.rule, body.reason)


@router.post("/spaces/{space_id}/clips", status_code=201)
async def clip(space_id: str, body: NewClip, caller: CallerDep, node: NodeDep) -> ClipOut:
    """Clip the last moments of a recorded live space (at most 30 s), or a passage of its
    replay (`start_seconds`, at most 60 s)."""
    made = await node.clips.create(
        caller, space_id, start=body.start_seconds, duration=body.duration_seconds
    )
    return ClipOut.of(made)


@router.get("/clips/{clip_id}")
async def get_clip(clip_id: str, caller: MaybeCallerDep, node: NodeDep) -> ClipOut:
    return ClipOut.of(await node.clips.get(caller, clip_id))


@_m4a_download("/clips/{clip_id}/audio", "A clip as one M4A file")
async def clip_audio(
    clip_id: str, request: Request, caller: MaybeCallerDep, node: NodeDep
) -> Response:
    found = await node.clips.audio(caller, clip_id)
    return _download(found, request, f"parley-clip-{clip_id}.m4a")
