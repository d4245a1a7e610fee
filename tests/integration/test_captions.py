"""Live captions through a real server: speakers' clients send espeak-ng sentences over WebRTC,
and the space's event socket gets `caption` events naming who spoke and what they said.

The bundled engine (pocketsphinx) is weak on synthetic voices (docs/benchmarks.md, "Captions"),
so each sentence is one it gets the key word of in both voices, and a test asks for that word.
Waits are long: a worker loads its model in a few seconds on a quiet machine, more on a busy one.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.audio import MediaClient
from tests.support.captions import ALICE_SAYS, ALICE_WORDS, BOB_SAYS, BOB_WORDS, CAPTION_WAIT
from tests.support.clients import EventStream, Person, bring_on_stage
from tests.support.moderation import admin
from tests.support.servers import ServerThread, serve, sqlite_url, wait_until
from tests.support.speech import Speaker, say

pytestmark = pytest.mark.espeak


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[ServerThread]:
    with serve(database_url=sqlite_url(tmp_path), captions="pocketsphinx") as running:
        yield running


async def _space(server: ServerThread, *speakers: str) -> tuple[str, dict[str, Person]]:
    people = {n: await Person.sign_up(server.base_url, n) for n in ("host", "lena", *speakers)}
    sid = (await people["host"].call("POST", "/spaces", 201, json={"title": "Morning talk"}))["id"]
    for name in ("lena", *speakers):
        await people[name].call("POST", f"/spaces/{sid}/join", 200)
    for name in speakers:
        await bring_on_stage(people["host"], people[name], sid)
    return sid, people


def captions(stream: EventStream, *, final: bool) -> list[dict[str, Any]]:
    return [
        m["data"]
        for m in stream.received
        if m.get("type") == "caption" and m["data"]["final"] is final
    ]


async def until_caption(
    stream: EventStream,
    speaker: str,
    words: set[str],
    *,
    again: tuple[Speaker, str, str] | None = None,
) -> dict[str, Any]:
    """The first caption (partial or final: both are shown) of `speaker` with one of `words`.
    With `again` (their microphone, the sentence, the voice), the sentence is said again
    whenever its final caption came without the word: on a loaded machine the mixer sheds audio
    that arrives late (as it must for listeners), and a phrase with holes is misheard. Six
    tries at most."""
    deadline = time.monotonic() + CAPTION_WAIT
    tries, seen = 1, 0
    while time.monotonic() < deadline:
        theirs = [m["data"] for m in stream.received if m.get("type") == "caption"]
        for said in theirs:
            if said["speaker"] == speaker and words & set(said["text"].split()):
                found: dict[str, Any] = said
                return found
        finals = [c for c in theirs if c["speaker"] == speaker and c["final"]]
        if again is not None and len(finals) > seen and tries < 6:
            seen, tries = len(finals), tries + 1
            microphone, sentence, voice = again
            microphone.play(say(sentence, voice=voice))
        await asyncio.sleep(0.1)
    raise AssertionError(f"no caption of {speaker} with {words}: {stream.received[-20:]}")


async def test_a_speaker_is_captioned_live_and_the_finals_are_kept(server: ServerThread) -> None:
    sid, people = await _space(server, "alice")
    speech = Speaker()
    alice = await MediaClient.connect(people["alice"], sid, track=speech)
    try:
        async with people["lena"].events(sid) as stream:
            await stream.wait_for("snapshot")
            started = time.monotonic()
            speech.play(say(ALICE_SAYS))
            said = await until_caption(
                stream, people["alice"].id, ALICE_WORDS, again=(speech, ALICE_SAYS, "en-us")
            )
            print(f"caption after {time.monotonic() - started:.1f} s: {said}")
            assert 0 <= said["start"] < said["end"]
            final = await stream.wait_for("caption", timeout=CAPTION_WAIT, final=True)
            # Finals are numbered events of the log; partials, if any came, are not.
            assert isinstance(final["seq"], int)
            assert all("seq" not in m for m in stream.received if m.get("type") == "caption"
                       and not m["data"]["final"])  # fmt: skip
            # Until all she said is final: a phrase still being said sends its partials live to
            # every socket, the one below too (under load, a later phrase's partial came after
            # an earlier phrase's final). A final keeps its phrase's start.
            await wait_until(lambda: not speech.playing, timeout=CAPTION_WAIT)
            await wait_until(
                lambda: (
                    {c["start"] for c in captions(stream, final=False)}
                    <= {c["start"] for c in captions(stream, final=True)}
                ),
                timeout=CAPTION_WAIT,
            )
            # The final a moderator can search for: one with the longest word (the search wants
            # two letters at least, and a final may be a lone "i").
            kept = max(captions(stream, final=True), key=lambda c: len(_longest_word(c["text"])))
        # A socket that resumes from the start gets the final again, and no partial.
        async with people["lena"].events(sid, since=0) as replay:
            await replay.wait_for("caption", text=final["data"]["text"])
            await asyncio.sleep(0.3)
            assert captions(replay, final=False) == []
    finally:
        await alice.close()
    await transcript_is_kept(server, sid, people, kept)


async def transcript_is_kept(
    server: ServerThread, sid: str, people: dict[str, Person], said: dict[str, Any]
) -> None:
    """The final is in the space's WebVTT, at its time, and moderators find it by its words."""
    r = await people["lena"].http.get(f"/spaces/{sid}/transcript.vtt")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/vtt")
    cues = r.text.split("\n\n")
    assert cues[0] == "WEBVTT"
    # The cue of that final: its words, by her, at its time (a short final's words may stand
    # in another cue too).
    said_by_her = [f"<v alice>{said['text']}"]
    timings = [lines[1] for lines in map(str.splitlines, cues[1:]) if lines[2:] == said_by_her]
    assert any(
        abs(_seconds(start) - said["start"]) < 0.002 and abs(_seconds(end) - said["end"]) < 0.002
        for start, _, end in (timing.partition(" --> ") for timing in timings)
    ), (said, r.text)
    await people["lena"].refused("GET", "/admin/transcripts?q=any", 403, "moderators_only")
    moderator = await admin(server, "mona")
    word = _longest_word(said["text"])
    hits = await moderator.call("GET", f"/admin/transcripts?q={word}", 200)
    assert {"space_id": sid, "space_title": "Morning talk"}.items() <= hits[0].items()
    assert hits[0]["line"]["speaker_id"] == people["alice"].id
    around = await moderator.call(
        "GET", f"/admin/spaces/{sid}/transcript?at={said['start']}&seconds=1", 200
    )
    assert said["text"] in [line["text"] for line in around]


def _longest_word(text: str) -> str:
    return max(text.split(), key=len, default="")


def _seconds(stamp: str) -> float:
    hours, minutes, seconds = stamp.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


async def test_two_speakers_in_turn_are_told_apart(server: ServerThread) -> None:
    sid, people = await _space(server, "alice", "bob")
    alice_speech, bob_speech = Speaker(), Speaker()
    alice = await MediaClient.connect(people["alice"], sid, track=alice_speech)
    bob = await MediaClient.connect(people["bob"], sid, track=bob_speech)
    try:
        async with people["lena"].events(sid) as stream:
            await stream.wait_for("snapshot")
            await asyncio.sleep(alice_speech.play(say(ALICE_SAYS)) + 1.0)
            bob_speech.play(say(BOB_SAYS, voice="en+f3"))
            a = await until_caption(
                stream, people["alice"].id, ALICE_WORDS, again=(alice_speech, ALICE_SAYS, "en-us")
            )
            b = await until_caption(
                stream, people["bob"].id, BOB_WORDS, again=(bob_speech, BOB_SAYS, "en+f3")
            )
            assert a["speaker"] != b["speaker"]
            # Neither sentence is put in the other's mouth.
            for said in captions(stream, final=True):
                words = set(said["text"].split())
                if said["speaker"] == people["alice"].id:
                    assert not words & BOB_WORDS - {"about"}, said
                else:
                    assert said["speaker"] == people["bob"].id, said
                    assert not words & ALICE_WORDS, said
    finally:
        await alice.close()
        await bob.close()


async def test_a_muted_speaker_is_not_captioned(server: ServerThread) -> None:
    sid, people = await _space(server, "alice")
    speech = Speaker()
    alice = await MediaClient.connect(people["alice"], sid, track=speech)
    try:
        async with people["lena"].events(sid) as stream:
            await stream.wait_for("snapshot")
            await people["host"].call("POST", f"/spaces/{sid}/mute/alice", 204)
            await stream.wait_for("mic_changed", muted=True)
            # Her client keeps sending her voice; the mixer drops it before any recognizer.
            for _ in range(2):
                await asyncio.sleep(speech.play(say(ALICE_SAYS)) + 1.0)
            await asyncio.sleep(3.0)
            assert [m for m in stream.received if m.get("type") == "caption"] == []
            assert server.node.captions.figures() is not None
            assert server.node.captions.figures().pool.phrases == 0  # type: ignore[union-attr]
            # The same connection, unmuted, is captioned: the silence above was the mute.
            await people["alice"].call("POST", f"/spaces/{sid}/unmute", 204)
            await stream.wait_for("mic_changed", muted=False)
            speech.play(say(ALICE_SAYS))
            await until_caption(
                stream, people["alice"].id, ALICE_WORDS, again=(speech, ALICE_SAYS, "en-us")
            )
    finally:
        await alice.close()


async def test_with_captions_off_nothing_is_recognized_and_no_process_starts(
    tmp_path: Path,
) -> None:
    with serve(database_url=sqlite_url(tmp_path), captions="off") as server:
        sid, people = await _space(server, "alice")
        speech = Speaker()
        alice = await MediaClient.connect(people["alice"], sid, track=speech)
        try:
            async with people["lena"].events(sid) as stream:
                await stream.wait_for("snapshot")
                await asyncio.sleep(speech.play(say(ALICE_SAYS)) + 1.5)
                assert [m for m in stream.received if m.get("type") == "caption"] == []
            node = server.node
            assert node.captions.pool is None and not node.captions.taps
            assert not [p for p in multiprocessing.active_children() if "captions" in p.name]
            metrics = (await people["host"].http.get(f"{server.base_url}/metrics")).text
            assert "parley_captions" not in metrics
        finally:
            await alice.close()
