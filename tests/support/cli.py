"""The `parley` command line in tests: its environment, and a run of it in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PARLEY_DATA_DIR": str(data_dir),
        "PARLEY_ARGON2_TIME_COST": "1",
        "PARLEY_ARGON2_MEMORY_KIB": "64",
        **extra,
    }


def parley(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "parley.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
