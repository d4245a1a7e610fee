"""Helpers for the e2e tests: fake-microphone tones, pages with the probe, and what a page hears."""

from __future__ import annotations

import asyncio
import wave
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import numpy as np
from playwright.async_api import Browser, ConsoleMessage, Page

CHROMIUM = Path("/usr/bin/chromium")
PROBE = Path(__file__).with_name("probe.js")
# The web client's vendored hls.js (fetched by `make setup`), which listening by HLS needs.
HLS_JS = Path(__file__).parents[2] / "parley/web/vendor/hls.js/dist/hls.light.min.mjs"

LaunchBrowser = Callable[[Path | None], Awaitable[Browser]]

# Analyser magnitudes in dBFS (Blackman window): the fake mic's half-scale tone reads about -30,
# the floor of a clean stream about -130. Now and then a reading catches a click (a concealed or
# stretched packet in the receiver): the whole spectrum rises to about -85 for that reading, so a
# tone counts as absent when it is either very quiet or no more than such a rise.
HEARD_DB = -50  # a tone this loud, and this far above the floor, is clearly there
HEARD_OVER_FLOOR_DB = 30
SILENT_DB = -75  # one this quiet, or this close to the floor, is not
SILENT_OVER_FLOOR_DB = 20


def write_tone(path: Path, hz: int, seconds: int = 6, rate: int = 48_000) -> Path:
    """A mono 16-bit sine at half scale. Chromium loops the file; whole seconds of a whole number
    of hertz are whole cycles, so the loop has no click at its seam."""
    t = np.arange(seconds * rate) / rate
    samples = (0.5 * 32767 * np.sin(2 * np.pi * hz * t)).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return path


def _show_errors(message: ConsoleMessage) -> None:
    """Browser errors go to the test's output (pytest shows it when a test fails)."""
    url = str(message.location.get("url", ""))
    if message.type == "error" and not url.endswith("/favicon.ico"):
        print(f"[browser] {message.text} ({url})")


async def open_app(browser: Browser, base_url: str) -> Page:
    """A fresh page on the app's home page, with the test probe (probe.js) loaded first."""
    context = await browser.new_context()
    await context.add_init_script(path=PROBE)
    page = await context.new_page()
    page.on("console", _show_errors)
    await page.goto(f"{base_url}/")
    return page


# --- what a page hears (levels as probe.js reports them: {t, floor, peaks: {"440": dB, ...}}) --


def level(levels: dict[str, Any], hz: int) -> float:
    return float(levels["peaks"][str(hz)])


def heard(levels: dict[str, Any], hz: int) -> bool:
    return level(levels, hz) > max(HEARD_DB, float(levels["floor"]) + HEARD_OVER_FLOOR_DB)


def silent(levels: dict[str, Any], hz: int) -> bool:
    return level(levels, hz) < max(SILENT_DB, float(levels["floor"]) + SILENT_OVER_FLOOR_DB)


def describe(levels: dict[str, Any]) -> str:
    peaks = ", ".join(f"{hz} Hz {float(db):.0f}" for hz, db in levels["peaks"].items())
    return f"{peaks} dBFS, floor {float(levels['floor']):.0f} dBFS"


async def analyse(page: Page, stream_expression: str) -> None:
    """Points the page's analyser at a MediaStream (a JavaScript expression in the page)."""
    await page.evaluate(f"parleyProbe.analyse({stream_expression})")


async def levels_now(page: Page) -> dict[str, Any]:
    levels: dict[str, Any] = await page.evaluate("parleyProbe.levels()")
    return levels


async def until_levels(
    page: Page, check: Callable[[dict[str, Any]], bool], timeout: float = 10.0
) -> dict[str, Any]:
    """Polls the analyser until `check` holds for a reading; returns that reading."""
    latest: dict[str, Any] = {}
    try:
        async with asyncio.timeout(timeout):
            while True:
                latest = await levels_now(page)
                if check(latest):
                    return latest
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(
            f"not heard as expected within {timeout} s: {describe(latest)}"
        ) from None
