"""What tests need from the machine, each with the one command that provides it.

A test whose prerequisite is missing fails; it never skips, because a green run that quietly left
out the browser or PostgreSQL tests says nothing about them. Before any test runs, the session
checks what the collected tests need (by marker) and stops at once with one message naming every
missing piece; the per-test checks below are for the rare prerequisite that goes away mid-run.
"""

from __future__ import annotations

import shutil
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# Without it Chromium draws a reaction's emoji as an empty box, in the screenshots too.
EMOJI_FONT = Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf")
POSTGRES_ADDRESS = ("127.0.0.1", 5432)
REDIS_ADDRESS = ("127.0.0.1", 6379)
INSTALL = "make system-deps  (as root: installs system-packages.txt, starts PostgreSQL and Redis)"


def _answers(address: tuple[str, int]) -> str | None:
    try:
        with socket.create_connection(address, timeout=2):
            return None
    except OSError as error:
        return f"nothing answers on {address[0]}:{address[1]} ({error.strerror or error})"


def chromium_problem() -> str | None:
    return None if CHROMIUM.exists() else f"no Chromium at {CHROMIUM}"


def emoji_font_problem() -> str | None:
    return None if EMOJI_FONT.exists() else f"no emoji font at {EMOJI_FONT}"


def turnserver_problem() -> str | None:
    return None if shutil.which("turnserver") else "no turnserver (Debian's coturn) on the PATH"


def npm_problem() -> str | None:
    return None if shutil.which("npm") else "no npm on the PATH"


def node_problem() -> str | None:
    return None if shutil.which("node") else "no node (Debian's nodejs) on the PATH"


def ffprobe_problem() -> str | None:
    return None if shutil.which("ffprobe") else "no ffprobe (Debian's ffmpeg) on the PATH"


def nginx_problem() -> str | None:
    found = shutil.which("nginx") or Path("/usr/sbin/nginx").exists()
    return None if found else "no nginx (Debian's nginx-light) on the PATH or in /usr/sbin"


def espeak_problem() -> str | None:
    return None if shutil.which("espeak-ng") else "no espeak-ng (Debian's espeak-ng) on the PATH"


def postgres_problem() -> str | None:
    problem = _answers(POSTGRES_ADDRESS)
    return f"PostgreSQL: {problem}" if problem else None


def redis_problem() -> str | None:
    problem = _answers(REDIS_ADDRESS)
    return f"Redis: {problem}" if problem else None


@dataclass(frozen=True)
class Prerequisite:
    marker: str
    problem: Callable[[], str | None]


# Marker on a test → what it needs. tests/e2e is marked `browser` as a whole (tests/conftest.py).
PREREQUISITES = (
    Prerequisite("browser", chromium_problem),
    Prerequisite("browser", npm_problem),
    Prerequisite("browser", emoji_font_problem),
    Prerequisite("node", node_problem),
    Prerequisite("postgres", postgres_problem),
    Prerequisite("redis", redis_problem),
    Prerequisite("turn", turnserver_problem),
    Prerequisite("ffmpeg", ffprobe_problem),
    Prerequisite("espeak", espeak_problem),
    Prerequisite("nginx", nginx_problem),
)


def problems_for(markers: set[str]) -> list[str]:
    found = (p.problem() for p in PREREQUISITES if p.marker in markers)
    return [problem for problem in found if problem]


def missing(problem: str) -> NoReturn:
    """Fail the running test for a missing prerequisite, saying how to get it."""
    pytest.fail(f"{problem}. Install or start it with: {INSTALL}", pytrace=False)
