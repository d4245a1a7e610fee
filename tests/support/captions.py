"""Captions in tests: sentences the bundled engine hears, how long one may take, one injected."""

from __future__ import annotations

from parley.core.captions import Caption
from tests.support.servers import ServerThread

# What of each sentence identifies it, its words' near forms included: on a loaded machine the
# model heard "meeting starts" as "eating start" (make test, 2026-12-04, load average 6).
ALICE_SAYS = "the meeting starts at nine"
ALICE_WORDS = {"meeting", "meetings", "starts", "start", "nine"}
BOB_SAYS, BOB_WORDS = "we talk about music and movies", {"talk", "about", "music"}
CAPTION_WAIT = 60.0


def say_now(server: ServerThread, sid: str, speaker: str, text: str) -> None:
    """A final caption of the last second, as recognition would decide it."""
    view = server.call(server.node.spaces.view(sid))
    assert view.space.started_at is not None
    now = (server.node.clock.now() - view.space.started_at).total_seconds()
    server.call(server.node.captions.keep(sid, Caption(speaker, text, True, now - 1.0, now - 0.2)))
