"""The web client's watch on a media connection (parley/web/js/media-watch.js), run by Node.js on
a clock the test moves: a node that is gone (nothing more comes in) is told within SILENT_MS of
its last packet; one that still answers the browser's ICE checks with no audio to send (relaying
a space whose home went away) is not, nor is one sending its program. The real browser against a
frozen node: tests/e2e/test_media_reconnect.py.

Needs Node.js (`node`: Debian's nodejs, which npm in system-packages.txt brings; marker `node`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.node_js import module_url, run_script

pytestmark = pytest.mark.node

WATCH = Path(__file__).parents[2] / "parley" / "web" / "js" / "media-watch.js"

# What comes in during second t of a connection, for each case: media bytes and ICE answers
# (cumulative, as getStats counts them), and whether the connection is closed by then.
CASES = {
    "program playing": "({ bytes: 1700 * t, answers: 3 })",
    "no audio, checks answered every 2.5 s": "({ bytes: 5000, answers: Math.floor(t / 2.5) })",
    "node gone at 6 s": "({ bytes: 1700 * Math.min(t, 6), answers: Math.min(t, 6) >> 1 })",
    "closed at 6 s": "({ bytes: 1700 * Math.min(t, 6), answers: 2, closed: t >= 6 })",
}


def watch(case: str, seconds: int = 30) -> dict[str, object]:
    """When (in seconds of the moved clock) `whenSilent` called its callback, how many times,
    and whether it was still looking at the end."""
    script = f"""
      const {{ whenSilent, LOOK_EVERY_MS }} = await import("{module_url(WATCH)}");
      let now = 0, tick = null, fired = [];
      const arrived = (t) => {CASES[case]};
      const pc = {{
        get connectionState() {{ return arrived(now / 1000).closed ? "closed" : "connected"; }},
        async getStats() {{
          const {{ bytes, answers }} = arrived(now / 1000);
          return new Map([
            ["T", {{ type: "transport", bytesReceived: bytes }}],
            ["P", {{ type: "candidate-pair", responsesReceived: answers, requestsReceived: 1 }}],
          ]);
        }},
      }};
      const clock = {{ now: () => now, every: (f) => (tick = f), stop: () => (tick = null) }};
      whenSilent(pc, () => fired.push(now / 1000), clock);
      while (tick && now < {seconds} * 1000) {{
        now += LOOK_EVERY_MS;
        await tick();
      }}
      console.log(JSON.stringify({{ fired, looking: tick !== null }}));
    """
    answer: dict[str, object] = json.loads(run_script(script))
    return answer


def test_a_node_sending_its_program_is_never_taken_for_gone() -> None:
    assert watch("program playing") == {"fired": [], "looking": True}


def test_a_node_with_no_audio_that_answers_the_checks_is_not_either() -> None:
    assert watch("no audio, checks answered every 2.5 s") == {"fired": [], "looking": True}


def test_a_node_gone_is_told_within_silent_ms_of_its_last_packet_and_once() -> None:
    # Its last packets came in second 6; four seconds of nothing after the look that saw them.
    assert watch("node gone at 6 s") == {"fired": [10], "looking": False}


def test_a_closed_connection_is_no_longer_watched() -> None:
    assert watch("closed at 6 s") == {"fired": [], "looking": False}
