"""Real Chromium against a real server: Debian's /usr/bin/chromium driven by Playwright.

Chromium's fake microphone plays a WAV file, one per browser process, so every speaker gets a
browser of its own with its own tone. The WAVs are made here at test time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Playwright, async_playwright

from tests.e2e.a11y import Axe, fetch_axe
from tests.e2e.browser import CHROMIUM, LaunchBrowser, write_tone
from tests.support.prerequisites import chromium_problem, missing
from tests.support.servers import ServerThread, serve, sqlite_url


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
    problem = chromium_problem()
    if problem:
        missing(problem)
    return CHROMIUM


@pytest.fixture(scope="session")
def axe_source() -> Axe:
    try:
        return Axe(fetch_axe())
    except LookupError as error:
        missing(str(error))


@pytest.fixture
async def playwright(chromium: Path) -> AsyncIterator[Playwright]:
    async with async_playwright() as running:
        yield running


@pytest.fixture
async def launch(playwright: Playwright, chromium: Path) -> AsyncIterator[LaunchBrowser]:
    """Starts a Chromium whose fake microphone plays `wav` (Chromium's own beeps when None)."""
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
