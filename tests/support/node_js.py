"""Running a piece of the web client in Node.js, for the unit tests of its plain modules (those
that touch no page): loaded as the browser loads them, ES modules, from their own bytes."""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path


def module_url(path: Path) -> str:
    """What `await import(...)` in a script takes to load `path` as the browser would."""
    return "data:text/javascript;base64," + base64.b64encode(path.read_bytes()).decode()


def run_script(script: str) -> str:
    """Runs `script` as an ES module in Node.js; what it printed."""
    node = shutil.which("node")
    assert node, "no node on the PATH (Debian's nodejs; npm in system-packages.txt brings it)"
    done = subprocess.run(
        [node, "--input-type=module", "--eval", script],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return done.stdout
