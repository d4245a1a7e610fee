"""Mouth-to-ear between two real browsers through a real `parley serve`, on one machine.

The speaker's Chromium takes its microphone from a WAV of short 1 kHz beeps; its page notes the
moment each beep starts in the microphone track. The listener's Chromium notes the moment each
beep starts in the audio it receives. Both pages read the same wall clock (one machine), so the
difference is the whole path: capture, Opus encoding, the network stack, the server (decode,
mix, encode once), the receiver's jitter buffer and decoding. Not included: the sound card at
either end. DESIGN.md's target is 150 ms.

    python -m bench.mouth_to_ear [--beeps 40]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import tempfile
import wave
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from playwright.async_api import Browser, Page, async_playwright

from bench.common import percentile, record, server_process

CHROMIUM = "/usr/bin/chromium"
SERVER_CORES, LOAD_CORE = "0", 1
RATE = 48_000
BEEP_SECONDS = 0.05
PERIOD_SECONDS = 0.5

# Runs in both pages: an AudioWorklet that reports when the signal rises out of silence, in
# wall-clock milliseconds (performance.timeOrigin + the context time mapped to performance time).
DETECTOR = r"""
async (source) => {
  const ctx = new AudioContext({ sampleRate: 48000, latencyHint: "interactive" });
  const code = `
    class Onsets extends AudioWorkletProcessor {
      constructor() { super(); this.quietFrames = 0; }
      process(inputs) {
        const channel = inputs[0][0];
        if (!channel) return true;
        let peak = 0;
        for (let i = 0; i < channel.length; i++) peak = Math.max(peak, Math.abs(channel[i]));
        if (peak > 0.05) {
          // A beep after at least 100 ms of quiet is a new onset.
          if (this.quietFrames * channel.length >= 4800) this.port.postMessage(currentTime);
          this.quietFrames = 0;
        } else {
          this.quietFrames++;
        }
        return true;
      }
    }
    registerProcessor("onsets", Onsets);`;
  const module = new Blob([code], { type: "text/javascript" });
  await ctx.audioWorklet.addModule(URL.createObjectURL(module));
  const node = new AudioWorkletNode(ctx, "onsets");
  window.onsets = [];
  node.port.onmessage = (event) => {
    const stamp = ctx.getOutputTimestamp();
    // Context time of the onset → performance time, through the context's own clock mapping.
    const ms = stamp.performanceTime + (event.data - stamp.contextTime) * 1000;
    window.onsets.push(performance.timeOrigin + ms);
  };
  ctx.createMediaStreamSource(source).connect(node);
  await ctx.resume();
}
"""


NOTE = re.sub(
    r"\s+",
    " ",
    """Two Chromium processes (pinned to core 1) and `parley serve` (core 0) on one
    machine. A beep's start is detected in the speaker's microphone track and in the listener's
    received track by the same AudioWorklet, on one wall clock: capture, encoding, network
    stack, server (decode, mix, encode), the receiver's jitter buffer and decoding; not the
    sound cards. Target (DESIGN.md): ≤ 150 ms.""",
)


def write_beeps(path: Path, seconds: int = 10) -> Path:
    """Short 1 kHz beeps every PERIOD_SECONDS with silence between; Chromium loops the file."""
    samples = np.zeros(seconds * RATE)
    t = np.arange(int(BEEP_SECONDS * RATE)) / RATE
    beep = 0.5 * np.sin(2 * np.pi * 1000 * t)
    for start in np.arange(0, seconds, PERIOD_SECONDS):
        at = int(start * RATE)
        samples[at : at + len(beep)] = beep
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes((samples * 32767).astype("<i2").tobytes())
    return path


async def account(http: httpx.AsyncClient, handle: str) -> str:
    body = {"handle": handle, "password": "bench password", "display_name": handle}
    assert (await http.post("/accounts", json=body)).status_code == 201
    r = await http.post("/sessions", json={"handle": handle, "password": "bench password"})
    return str(r.json()["token"])


async def open_page(browser: Browser, base: str) -> Page:
    # The detector is this benchmark's own code, evaluated in the page and loading its worklet
    # from a blob: URL, both of which the client's Content-Security-Policy rightly refuses; the
    # client's own code runs as it does for anyone.
    context = await browser.new_context(bypass_csp=True)
    page = await context.new_page()
    await page.goto(f"{base}/")
    return page


async def connect(page: Page, space_id: str, token: str, send: bool) -> None:
    await page.evaluate(
        """async ([spaceId, token, send, detector]) => {
            const media = await import("/js/media.js");
            window.conn = await media.connectMedia({ spaceId, token, send });
            const watch = eval(detector);
            const conn = window.conn;
            const stream = send ? new MediaStream([conn.micTrack]) : conn.remoteStream;
            await watch(stream);
        }""",
        [space_id, token, send, DETECTOR],
    )


def pair(sent: list[float], heard: list[float]) -> list[float]:
    """Each beep's delay: the first onset heard within one period after it was spoken."""
    delays = []
    for spoken in sent:
        later = [h - spoken for h in heard if 0 < h - spoken < PERIOD_SECONDS * 1000]
        if later:
            delays.append(min(later))
    return delays


async def measure(beeps: int) -> dict[str, Any]:
    # The server on core 0, this process and the browsers it launches (they inherit it) on 1.
    os.sched_setaffinity(0, {LOAD_CORE})
    with tempfile.TemporaryDirectory() as tmp, server_process(cpus=SERVER_CORES) as server:
        wav = write_beeps(Path(tmp) / "beeps.wav")
        async with httpx.AsyncClient(base_url=f"{server.base}/api/v1", timeout=10) as http:
            speaker, listener = await account(http, "speaker"), await account(http, "listener")
            as_speaker = {"Authorization": f"Bearer {speaker}"}
            created = await http.post("/spaces", json={"title": "Beeps"}, headers=as_speaker)
            sid = created.json()["id"]
            await http.post(f"/spaces/{sid}/unmute", headers=as_speaker)
            as_listener = {"Authorization": f"Bearer {listener}"}
            await http.post(f"/spaces/{sid}/join", headers=as_listener)
        flags = ["--use-fake-ui-for-media-stream", "--autoplay-policy=no-user-gesture-required"]
        async with async_playwright() as pw:
            talker = await pw.chromium.launch(
                executable_path=CHROMIUM,
                args=[
                    *flags,
                    "--use-fake-device-for-media-stream",
                    f"--use-file-for-fake-audio-capture={wav}",
                ],
            )
            ear = await pw.chromium.launch(executable_path=CHROMIUM, args=flags)
            listening = await open_page(ear, server.base)
            await connect(listening, sid, listener, send=False)
            talking = await open_page(talker, server.base)
            await connect(talking, sid, speaker, send=True)
            await asyncio.sleep(2 + beeps * PERIOD_SECONDS)
            sent: list[float] = await talking.evaluate("window.onsets")
            heard: list[float] = await listening.evaluate("window.onsets")
            await talker.close()
            await ear.close()
    # The first two seconds settle jitter buffers and the tick phase.
    settled = [s for s in sent if s > sent[0] + 2000] if sent else []
    delays = sorted(pair(settled, heard))
    return {
        "beeps": len(settled),
        "paired": len(delays),
        "p50": percentile(delays, 50),
        "p99": percentile(delays, 99),
        "max": max(delays) if delays else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--beeps", type=int, default=40)
    args = parser.parse_args()
    result = asyncio.run(measure(args.beeps))
    if not result["beeps"] or result["paired"] < result["beeps"]:
        # A beep spoken and never heard is a failed run, not a row with fewer figures.
        raise SystemExit(
            f"mouth_to_ear failed: {result['paired']} of {result['beeps']} beeps heard"
        )
    line = (
        f"| {result['beeps']} | {result['paired']} | {result['p50']:.0f} | "
        f"{result['p99']:.0f} | {result['max']:.0f} |"
    )
    print(
        "beeps | heard | mouth-to-ear p50 ms | p99 ms | max ms\n" + line.replace("|", " ").strip()
    )
    record(
        "Mouth-to-ear, browser to browser (bench/mouth_to_ear.py)",
        "python -m bench.mouth_to_ear",
        "| beeps | heard | p50 ms | p99 ms | max ms |\n|---:|---:|---:|---:|---:|\n"
        + line
        + "\n\n"
        + NOTE,
    )


if __name__ == "__main__":
    main()
