"""The web client stays in small pieces: no function over about 80 lines (issue 9), so a change
to how the room reconnects or draws the stage is read in one screen, not inside a 460-line
`enterRoom`. Functions here are `function` declarations, `const f = (...) => {` arrows and class
methods, found by their opening line and the closing brace at the same indent (the client's
Prettier layout)."""

from __future__ import annotations

import re
from pathlib import Path

WEB_JS = Path(__file__).parents[2] / "parley" / "web" / "js"
MOST_LINES = 80
OPENING = re.compile(
    r"^(?P<indent>\s*)(?:export\s+)?(?:"
    r"(?:async\s+)?function\s*\*?\s*(?P<function>\w+)"
    r"|const\s+(?P<arrow>\w+)\s*=\s*(?:async\s*)?\(.*=>\s*\{$"
    r"|(?:async\s+)?(?P<method>(?!if\b|for\b|while\b|switch\b|catch\b)\w+)\(.*\)\s*\{$)"
)


def long_functions(path: Path, root: Path = WEB_JS) -> list[str]:
    lines = path.read_text().splitlines()
    found = []
    for i, line in enumerate(lines):
        opening = OPENING.match(line)
        if not opening:
            continue
        name = opening["function"] or opening["arrow"] or opening["method"]
        closing = {opening["indent"] + tail for tail in ("}", "};", "},")}
        end = next((j for j in range(i + 1, len(lines)) if lines[j].rstrip() in closing), i)
        if end - i + 1 > MOST_LINES:
            found.append(f"{path.relative_to(root)}:{i + 1} {name} ({end - i + 1} lines)")
    return found


def test_no_function_in_the_web_client_is_over_80_lines() -> None:
    scripts = sorted(WEB_JS.rglob("*.js"))
    assert len(scripts) > 20  # the client is there, not an empty glob
    assert [f for path in scripts for f in long_functions(path)] == []


def test_the_check_finds_a_long_function(tmp_path: Path) -> None:
    short = ["  return {", "    close() {", "      stop();", "    },", "  };"]
    body = ["export function enterRoom(room) {", *short, *["  step();"] * 90, "}"]
    (tmp_path / "room.js").write_text("\n".join(body))
    assert long_functions(tmp_path / "room.js", tmp_path) == ["room.js:1 enterRoom (97 lines)"]
