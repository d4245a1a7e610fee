"""/js/media.js's liveAudio() started on a page by the e2e tests, and a wait on its connection."""

from __future__ import annotations

from playwright.async_api import Page

from tests.support.clients import Person


async def start_live_audio(page: Page, sid: str, person: Person, follow_mic: bool = True) -> None:
    await page.evaluate(
        """async ([spaceId, token, accountId, followMic]) => {
          const { liveAudio } = await import("/js/media.js");
          window.changes = [];
          window.mediaErrors = [];
          window.live = liveAudio({ spaceId, token, accountId, followMic,
            onChange: ({ connection, role }) => changes.push({ send: connection.send, role }),
            onError: (e) => mediaErrors.push({ status: e.status, message: String(e) }) });
        }""",
        [sid, person.token, person.id, follow_mic],
    )


async def until_connected(page: Page, send: bool, timeout: float = 10.0) -> None:
    """Waits until the page's current media connection sends (or only receives) and is up."""
    expression = f"""() => {{
        if (mediaErrors.length) throw new Error(JSON.stringify(mediaErrors));
        const c = live.connection;
        return !!c && c.send === {str(send).lower()} && c.pc.connectionState === "connected";
    }}"""
    await page.wait_for_function(expression, timeout=timeout * 1000, polling=50)
