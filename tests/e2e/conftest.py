"""Real Chromium against a real server: Debian's /usr/bin/chromium driven by Playwright.

Chromium's fake microphone plays a WAV file, one per browser process, so every speaker gets a
browser of its own with its own tone. The WAVs are made here at test time.
"""

from __future__ import annotations

import wave
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, Playwright, async_playwright

from tests.support.servers import ServerThread, serve, sqlite_url

CHROMIUM = Path("/usr/bin/chromium")
PROBE = Path(__file__).with_name("probe.js")

LaunchBrowser = Callable[[Path | None], Awaitable[Browser]]


def write_tone(path: Path, hz: int, seconds: int = 6, rate: int = 48_000) -> Path:
    """A mono 16-bit sine at half scale. Chromium loops the file; whole seconds of a whole number
    of hertz are whole cycles, so the loop has no click at its seam."""
    frames = seconds * rate
    t = np.arange(frames) / rate
    samples = (0.5 * 32767 * np.sin(2 * np.pi * hz * t)).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return path


@pytest.fixture(scope="session")
def tones(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    folder = tmp_path_factory.mktemp("tones")
    return {hz: write_tone(folder / f"{hz}hz.wav", hz) for hz in (440, 880)}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    with serve(database_url=sqlite_url(tmp_path)) as running:
        yield running


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.exists():
        pytest.skip(
            f"no Chromium at {CHROMIUM}: install Debian's package "
            "(apt-get install --no-install-recommends chromium; .ci/run does)"
        )
    return CHROMIUM


@pytest.fixture
async def playwright(chromium: Path) -> AsyncIterator[Playwright]:
    async with async_playwright() as running:
        yield running


@pytest.fixture
async def launch(playwright: Playwright, chromium: Path) -> AsyncIterator[LaunchBrowser]:
    """Starts a Chromium whose fake microphone plays `wav` (silence when None)."""
    browsers: list[Browser] = []

    async def start(wav: Path | None) -> Browser:
        args = [
            "--use-fake-ui-for-media-stream",  # grant the mic without a prompt
            "--use-fake-device-for-media-stream",
            "--autoplay-policy=no-user-gesture-required",
        ]
        if wav is not None:
            args.append(f"--use-file-for-fake-audio-capture={wav}")
        browser = await playwright.chromium.launch(executable_path=str(chromium), args=args)
        browsers.append(browser)
        return browser

    yield start
    for browser in browsers:
        await browser.close()


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
