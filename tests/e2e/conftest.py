"""Real Chromium against a real server: Debian's /usr/bin/chromium driven by Playwright.

Chromium's fake microphone plays a WAV file, one per browser process, so every speaker gets a
browser of its own with its own tone. The WAVs are made here at test time.

Playwright's driver, and the one Chromium for everyone who needs no tone of their own, start
once per test process and serve every test in it (tests/conftest.py runs the browser tests in
one event loop for that): each test gets fresh contexts, closed when it ends. Starting both
for each test took about two thirds of a second, some fifty times on the browser group's
worker.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
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


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def playwright(chromium: Path) -> AsyncIterator[Playwright]:
    async with async_playwright() as running:
        yield running


def _chromium_args(wav: Path | None) -> list[str]:
    args = [
        "--use-fake-ui-for-media-stream",  # grant the mic without a prompt
        "--use-fake-device-for-media-stream",
        "--autoplay-policy=no-user-gesture-required",
    ]
    if wav is not None:
        args.append(f"--use-file-for-fake-audio-capture={wav}")
    return args


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def plain_chromium(playwright: Playwright, chromium: Path) -> AsyncIterator[Browser]:
    """The Chromium of everyone whose microphone plays Chromium's own beeps."""
    browser = await playwright.chromium.launch(
        executable_path=str(chromium), args=_chromium_args(None)
    )
    yield browser
    await browser.close()


@pytest_asyncio.fixture(loop_scope="session")
async def launch(
    playwright: Playwright, plain_chromium: Browser, chromium: Path
) -> AsyncIterator[LaunchBrowser]:
    """A Chromium whose fake microphone plays `wav`: one of its own for each call, or the shared
    one when None (Chromium's own beeps). What the test opens in the shared one is closed when
    it ends, so the next test starts with nothing of it."""
    browsers: list[Browser] = []
    already = set(plain_chromium.contexts)

    async def start(wav: Path | None) -> Browser:
        if wav is None:
            return plain_chromium
        browser = await playwright.chromium.launch(
            executable_path=str(chromium), args=_chromium_args(wav)
        )
        browsers.append(browser)
        return browser

    yield start
    for context in plain_chromium.contexts:
        if context not in already:
            await context.close()
    for browser in browsers:
        await browser.close()
