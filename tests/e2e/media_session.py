"""The device's media controls (Media Session API), spied on and pressed by the e2e tests."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Page

from tests.e2e.browser import LaunchBrowser
from tests.e2e.pages import open_page

# Every handler the page sets, by action, as the device would call it (null removes it).
SPY = """
window.lockScreen = {};
const setActionHandler = MediaSession.prototype.setActionHandler;
MediaSession.prototype.setActionHandler = function (action, handler) {
  if (handler) window.lockScreen[action] = handler;
  else delete window.lockScreen[action];
  return setActionHandler.call(this, action, handler);
};
"""

# The next play() the page calls plays, but its promise waits until `window.interruptPlay()`
# rejects it as Chrome does when a new source is loaded under a pending play(): the window in
# which the room's media connection can be replaced, held open as long as a test needs.
HOLD_NEXT_PLAY = """
() => {
  const play = HTMLMediaElement.prototype.play;
  HTMLMediaElement.prototype.play = function () {
    HTMLMediaElement.prototype.play = play;
    play.call(this).catch(() => {});
    return new Promise((_, reject) => {
      window.interruptPlay = () =>
        reject(new DOMException("interrupted by a new load request", "AbortError"));
    });
  };
}
"""


async def spied_page(launch: LaunchBrowser, base_url: str, path: str) -> Page:
    page = await open_page(await launch(None), base_url, path)
    await page.context.add_init_script(SPY)
    await page.reload()
    return page


async def press(page: Page, action: str, **details: Any) -> None:
    """The device's control for `action`, pressed; as a device does, not waiting for what the
    handler returns (a play() may be pending for long)."""
    await page.evaluate(
        "([action, details]) => { window.lockScreen[action]({ action, ...details }); }",
        [action, details],
    )


async def offered(page: Page) -> set[str]:
    return set(await page.evaluate("Object.keys(window.lockScreen)"))


async def until_playing(page: Page, **expected: str) -> None:
    """Until the device's controls show what `expected` says (title, artist, album, state)."""
    checks = " && ".join(
        f"{'navigator.mediaSession.playbackState' if key == 'state' else f'm.{key}'} === {value!r}"
        for key, value in expected.items()
    )
    await page.wait_for_function(
        f"() => {{ const m = navigator.mediaSession.metadata; return !!m && {checks}; }}",
        timeout=15_000,
        polling=100,  # not on animation frames, which a page under load may get few of
    )
