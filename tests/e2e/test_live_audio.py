"""Live audio end to end: real Chromium pages speaking and listening through the real server.

Ada's browser has a fake microphone playing 440 Hz, Bea's 880 Hz; Lou only listens. Each page
loads the app and runs /js/media.js's liveAudio(), which follows the account's role on the event
socket: Ada and Bea start in the audience, raise a hand, are approved by the host (through the
API, not under test here) and their pages reconnect, sending their microphone. Lou's page analyses
what it receives with a Web Audio analyser: the tones of whoever is unmuted on stage, and nothing
of whoever is muted: the server's mixer drops them within half a second of the mute, and Lou's
ears follow within half a second of that, less what his own jitter buffer held back (WebRTC's
stats) so that a starved machine's Chromium stalling and then buffering is not taken for the
server's delay.

Ada's page does not mirror her mute onto her microphone (followMic: false): her browser keeps
sending 440 Hz, so its silence at Lou's proves the server drops a muted speaker's audio.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from statistics import median as median_of
from typing import Any

from playwright.async_api import Page

from tests.e2e.browser import (
    LaunchBrowser,
    analyse,
    describe,
    heard,
    level,
    open_app,
    silent,
    until_levels,
)
from tests.e2e.live_audio import start_live_audio, until_connected
from tests.support.clients import Person
from tests.support.servers import ServerThread

MUTE_DEADLINE_MS = 500
# A mute request answered later than this has hung, however busy the machine (CI's starved runs
# answered in up to 932 ms; an idle machine in tens). The API's own latency is benchmarked.
ANSWER_DEADLINE_MS = 3000
RTP_CLOCK_PER_MS = 48  # Opus over RTP counts 48 kHz, whatever its audio's rate
# What Lou hears was mixed less than this long before (the mixer's tick, his jitter buffer at its
# fullest on a starved machine, the analyser's window).
MIX_TO_EAR_MS = 500
Ticks = list[tuple[float, bool, bool]]


async def watch(page: Page, seconds: float) -> list[dict[str, Any]]:
    """The page's readings every 50 ms for `seconds`."""
    await page.evaluate("parleyProbe.startWatch(50)")
    await asyncio.sleep(seconds)
    return await stop_watch(page)


async def until_steady(
    page: Page, check: Callable[[dict[str, Any]], bool], timeout: float = 10.0
) -> dict[str, Any]:
    """The median of half a second of readings once `check` holds for one: a moment's dropout
    on a loaded machine (CI's three browsers and three test workers on two cores: 880 Hz at
    -54 dBFS for a median once) is waited out, a tone that is not mixed is not."""
    deadline = time.monotonic() + timeout
    while True:
        levels = median(await watch(page, 0.5))
        if check(levels):
            return levels
        if time.monotonic() > deadline:
            raise AssertionError(f"not steadily heard within {timeout} s: {describe(levels)}")


async def stop_watch(page: Page) -> list[dict[str, Any]]:
    samples: list[dict[str, Any]] = await page.evaluate("parleyProbe.stopWatch()")
    return samples


def media_ms(samples: list[dict[str, Any]]) -> list[float]:
    """Each reading's media time (ms since the first reading's), from the RTP timestamp of the
    audio the page was playing (unwrapped: it counts modulo 2**32)."""
    first = samples[0]["rtp"]
    return [((s["rtp"] - first) % 2**32) / RTP_CLOCK_PER_MS for s in samples]


def jitter_buffer_ms(samples: list[dict[str, Any]], first: int, last: int) -> float:
    """How long (ms), on average, the audio Lou played between readings `first` and `last` had
    waited in his receiver's jitter buffer (inbound-rtp's running totals; 0 where unknown)."""
    a, b = samples[first], samples[last]
    if "jitterEmitted" not in a or "jitterEmitted" not in b:
        return 0.0
    played = b["jitterEmitted"] - a["jitterEmitted"]
    waited = b["jitterDelay"] - a["jitterDelay"]
    return 1000 * waited / played if played > 0 else 0.0


def concealed_share(samples: list[dict[str, Any]], first: int, last: int) -> float:
    """The share of what Lou played between readings `first` and `last` that his receiver made
    up because the audio had not come (inbound-rtp's running totals; 0 where unknown)."""
    a, b = samples[first], samples[last]
    if "received" not in a or "received" not in b:
        return 0.0
    played = b["received"] - a["received"]
    return (b["concealed"] - a["concealed"]) / played if played > 0 else 0.0


def flowing(samples: list[dict[str, Any]]) -> list[bool]:
    """Whether each reading heard playout moving: over the two readings before it (100 ms, more
    than the analyser's 85 ms window) the media time moved on by at least half the wall time,
    and at most half of what was played was concealment. A stalled playout fades to silence in
    the analyser, whatever the server sent. So does a stalled page: after the sampler itself
    stalled (CI: 265 ms between two readings, then 880 Hz silent in 4 readings whose media time
    moved), a reading counts once the four gaps before it were steady again (at most 100 ms
    each, for readings every 50 ms). So does concealment: when the server's own loop stalls it
    skips the ticks it missed, its media time jumps with them, and the gap is made up at Lou's."""
    media = media_ms(samples)
    wall = [s["t"] for s in samples]

    def steady(i: int) -> bool:
        return i >= 4 and all(wall[j] - wall[j - 1] <= 100 for j in range(i - 3, i + 1))

    return [
        steady(i)
        and media[i] - media[i - 2] >= 0.5 * (wall[i] - wall[i - 2])
        and concealed_share(samples, i - 2, i) <= 0.5
        for i in range(len(samples))
    ]


def when_the_mixer_drops(server: ServerThread, sid: str, account_id: str) -> list[float]:
    """A list that gets the wall time (ms) at which the space's mixer stops mixing `account_id`:
    where the server's part of a mute ends and the way to the listener's ears begins."""
    mixer = server.node.media.rooms[sid].room.mixer
    dropped: list[float] = []
    set_audible = mixer.set_audible

    def watched(sources: set[str]) -> None:
        set_audible(sources)
        if account_id not in sources and not dropped:
            dropped.append(time.time() * 1000)

    mixer.set_audible = watched  # type: ignore[method-assign]
    return dropped


def mixer_ticks(server: ServerThread, sid: str, account_id: str) -> Ticks:
    """The space's mixer's ticks from now on: the wall time (ms) of each, whether `account_id`
    was audible in it, and whether any of its audio (or its decoder's concealment) was mixed."""
    mixer = server.node.media.rooms[sid].room.mixer
    ticks: Ticks = []

    def sink(mixed: Mapping[str, object], levels: Mapping[str, float], _now: float) -> None:
        ticks.append((time.time() * 1000, account_id in levels, account_id in mixed))

    mixer.add_voice_sink(sink)
    return ticks


def median(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Median levels of several readings, in the shape of one."""
    return {
        "floor": median_of(s["floor"] for s in samples),
        "peaks": {hz: median_of(s["peaks"][hz] for s in samples) for hz in samples[0]["peaks"]},
    }


def mostly_silent(readings: list[dict[str, Any]], hz: int) -> bool:
    """`hz` silent in more than half the readings, each judged against its own floor. Not the
    median level against the median floor: on a starved machine the page's analyser reads a
    floor 25-30 dB high in some readings, a concealed frame of the speaker's spreading into every
    band, and those readings' traces at `hz` raised its median level while the clean readings
    kept the median floor low (CI: 440 Hz at -72 dBFS against a floor of -101, from readings
    each silent against its own floor of -73 to -108)."""
    return sum(silent(s, hz) for s in readings) * 2 > len(readings)


def _gone_from(readings: list[dict[str, Any]], hz: int) -> bool:
    """`hz` silent in the first reading, heard in none of them, silent in most of them."""
    return (
        silent(readings[0], hz)
        and not any(heard(s, hz) for s in readings)
        and mostly_silent(readings, hz)
    )


async def test_listeners_hear_the_stage_and_not_the_muted(
    server: ServerThread, launch: LaunchBrowser, tones: dict[int, Path]
) -> None:
    host, ada, bea, lou = [
        await Person.sign_up(server.base_url, h) for h in ("host", "ada", "bea", "lou")
    ]
    sid = (await host.call("POST", "/spaces", 201, json={"title": "Tones"}))["id"]

    ada_page, bea_page, lou_page = await asyncio.gather(
        open_app(await launch(tones[440]), server.base_url),
        open_app(await launch(tones[880]), server.base_url),
        open_app(await launch(None), server.base_url),
    )

    # Media is for people in the space: Lou's page is refused until Lou joins.
    refusal = await lou_page.evaluate(
        """async ([spaceId, token]) => {
          const { connectMedia, MediaRequestError } = await import("/js/media.js");
          try { await connectMedia({ spaceId, token }); return null; }
          catch (e) { return { status: e.status, ours: e instanceof MediaRequestError }; }
        }""",
        [sid, lou.token],
    )
    assert refusal is not None and refusal["status"] == 403 and refusal["ours"], refusal

    for person in (ada, bea, lou):
        await person.call("POST", f"/spaces/{sid}/join", 200)
    await start_live_audio(ada_page, sid, ada, follow_mic=False)
    await start_live_audio(bea_page, sid, bea)
    await start_live_audio(lou_page, sid, lou)
    for page in (ada_page, bea_page, lou_page):
        await until_connected(page, send=False)

    # On stage by raising a hand and being approved; both pages reconnect to send.
    for person in (ada, bea):
        await person.call("POST", f"/spaces/{sid}/hand", 204)
        await host.call("POST", f"/spaces/{sid}/speakers/{person.handle}", 204)
    await until_connected(ada_page, send=True)
    await until_connected(bea_page, send=True)

    await analyse(lou_page, "live.connection.remoteStream")
    # Everyone enters the stage muted: Ada's browser already sends, the server passes none of it.
    await bea.call("POST", f"/spaces/{sid}/unmute", 204)
    await until_levels(lou_page, lambda v: heard(v, 880))
    only_bea = await watch(lou_page, 0.5)
    # Ada's voice is in no reading (it would be as loud as Bea's, -33 dBFS) and silent in most.
    # Not "silent in every reading": a frame of Bea's that reaches the mixer too late is
    # concealed by libopus, whose guess at her 880 Hz leaves a trace at 440 Hz for a reading
    # (CI: -67 dBFS, 26 dB under her, over a floor of -103).
    assert not any(heard(s, 440) for s in only_bea), [describe(s) for s in only_bea]
    assert mostly_silent(only_bea, 440), [describe(s) for s in only_bea]

    await ada.call("POST", f"/spaces/{sid}/unmute", 204)
    await until_levels(lou_page, lambda v: heard(v, 440) and heard(v, 880))
    both = await until_steady(lou_page, lambda v: heard(v, 440) and heard(v, 880))
    print(f"\nLou hears both: {describe(both)} (medians)")

    # Each speaker hears the other, not themself (mix-minus).
    for page, own, other in ((ada_page, 440, 880), (bea_page, 880, 440)):
        await analyse(page, "live.connection.remoteStream")
        await until_levels(page, partial(heard, hz=other))
        mix = await watch(page, 0.5)
        # Their own voice is in no reading (in the mix it would be as loud as Lou hears it, -33
        # dBFS) and silent in most. Not "silent in every reading": as the page's analyser
        # starts on a starved machine the floor can stand 50 dB high, and its spread put 440 Hz
        # at -64 dBFS, 20 dB over that floor, in the first readings (CI), then fell away.
        assert not any(heard(s, own) for s in mix), [describe(s) for s in mix]
        assert mostly_silent(mix, own), [describe(s) for s in mix]
        print(f"{own} Hz speaker hears: {describe(median(mix))} (medians)")

    # The host mutes Ada: 440 Hz leaves Lou's ears within half a second, 880 Hz stays.
    await lou_page.evaluate("parleyProbe.startWatch(50, live.connection.pc)")
    bea_ticks = mixer_ticks(server, sid, bea.id)
    await asyncio.sleep(1.0)  # long enough before the mute for his playout to be at its best
    muted_at = time.time() * 1000  # the page stamps its readings with Date.now(): the same clock
    dropped_at = when_the_mixer_drops(server, sid, ada.id)
    await host.call("POST", f"/spaces/{sid}/mute/ada", 204)
    answered_ms = time.time() * 1000 - muted_at
    await asyncio.sleep(1.5)
    samples = await stop_watch(lou_page)
    server_ms = dropped_at[0] - muted_at if dropped_at else float("nan")
    after_answer_ms = server_ms - answered_ms
    buffered = [0.0] + [jitter_buffer_ms(samples, i - 1, i) for i in range(1, len(samples))]
    concealed = [0.0] + [concealed_share(samples, i - 1, i) for i in range(1, len(samples))]
    # Ticks that had nothing of Bea's to mix: her own browser's audio had not come.
    lacking = [at for at, audible, mixed in bea_ticks if audible and not mixed]

    def without_bea(reading: dict[str, Any]) -> bool:
        return any(reading["t"] - MIX_TO_EAR_MS <= at <= reading["t"] for at in lacking)

    timeline = "\n".join(
        [f"  mute answered after {answered_ms:.0f} ms, Ada left the mix after {server_ms:.0f} ms"]
        + [
            f"  {s['t'] - muted_at:+5.0f} ms  {describe(s)}, jitter buffer {ms:.0f} ms, "
            f"{share:.0%} concealed" + (", a tick without Bea's audio" if without_bea(s) else "")
            for s, ms, share in zip(samples, buffered, concealed, strict=True)
        ]
    )
    # The server's own part of the promise: Ada is out of the mix, for every listener, within the
    # deadline of the mute being decided, which the answer bounds from above. Not of the request
    # being sent: on a starved machine the request itself waited 932 ms for a core (CI), and the
    # mixer dropped her 2 ms after its answer.
    assert answered_ms <= ANSWER_DEADLINE_MS, timeline
    assert after_answer_ms <= MUTE_DEADLINE_MS, timeline
    before = [s for s in samples if s["t"] < muted_at]
    after = [s for s in samples if s["t"] >= muted_at]
    # Before it, Ada is heard whenever Bea is (a glitch of a busy machine silences both), but for
    # a moment: a starved machine's mixer sheds a speaker's late frames (CI: 440 Hz alone gone
    # in 2 of 24 readings, 100 ms before the mute). A mix that lost her is not a moment.
    with_bea = [s for s in before if heard(s, 880)]
    without_ada = [s for s in with_bea if silent(s, 440)]
    assert with_bea and len(without_ada) <= len(with_bea) // 5, timeline
    # Gone: silent in this reading, and absent from every later one (heard in none, silent in
    # most: a concealed frame of Bea's may leave a trace at 440 Hz in one, as above).
    gone = next((s for i, s in enumerate(after) if _gone_from(after[i:], 440)), None)
    assert gone is not None, f"440 Hz still heard 1.5 s after the mute:\n{timeline}"
    vanished_ms = gone["t"] - muted_at
    # What Lou's own receiver held back: the mean wait in his jitter buffer of what he played from
    # the mixer's drop to the reading where Ada was gone.
    at_drop = max(i for i, s in enumerate(samples) if s["t"] <= muted_at + server_ms)
    held_ms = jitter_buffer_ms(samples, at_drop, samples.index(gone))
    print(
        f"440 Hz gone {vanished_ms:.0f} ms after the mute request, {held_ms:.0f} ms of it in "
        f"Lou's jitter buffer; readings:\n{timeline}"
    )
    # On a starved machine Chromium stalls Lou's playout and then plays what piled up (CI: 440 Hz
    # gone 848 ms after the mute, after a stall), and his jitter buffer grows its target after such
    # an underrun (CI: gone 594 ms after the mute with the playout at its best). That wait is his
    # receiver's, not the server's. The server's part is held to the deadline above; the rest of
    # the way to Lou's ears (encoding, sending, the network, decoding and the analyser's window) is
    # held to it again.
    path_ms = vanished_ms - server_ms - held_ms
    print(f"From the mixer to Lou, his jitter buffer aside: {path_ms:.0f} ms")
    assert path_ms <= MUTE_DEADLINE_MS, f"{path_ms:.0f} ms from the mixer to Lou\n{timeline}"
    # 880 Hz stays: the mixer kept her audible at every tick, and Lou hears her wherever his
    # playout moves: a mute that cut Bea would silence her reading after reading. Where it
    # stalled or made up audio that had not come (CI), the analyser fades to silence and says
    # nothing; so it does where Bea's own browser sent nothing for a while (CI, before the probe
    # read either: 880 Hz at digital silence in 3 of 25 readings, every band silent).
    assert all(audible for at, audible, _ in bea_ticks if at >= muted_at), timeline
    moving = [
        s
        for s, ok in zip(samples, flowing(samples), strict=True)
        if ok and s["t"] >= muted_at and not without_bea(s)
    ]
    assert len(moving) >= 0.5 * len(after), (
        f"Lou's playout stalled, or Bea's audio did not come, for most of it\n{timeline}"
    )
    assert sum(silent(s, 880) for s in moving) <= 0.1 * len(moving), timeline
    assert sum(heard(s, 880) for s in moving) >= 0.75 * len(moving), timeline
    print(f"880 Hz after the mute: {min(level(s, 880) for s in moving):.0f} dBFS at the lowest")

    # Lou never sent a byte of audio, nor asked for a microphone.
    sent = await lou_page.evaluate("parleyProbe.audioBytes(live.connection.pc)")
    assert sent["sent"] == 0 and sent["received"] > 0, sent
    assert await lou_page.evaluate("parleyProbe.getUserMediaCalls") == 0
    # Ada's browser did keep sending her mic all along: the silence was the server's doing.
    ada_sent = await ada_page.evaluate("parleyProbe.audioBytes(live.connection.pc)")
    assert ada_sent["sent"] > 0, ada_sent
    assert await ada_page.evaluate("live.connection.micTrack.enabled")

    for page in (ada_page, bea_page, lou_page):
        await page.evaluate("live.close()")
    for person in (host, ada, bea, lou):
        await person.close()
