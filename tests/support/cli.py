"""The `parley` command line in tests: its environment, and a run of it in a subprocess or, where
the entry point is not what a test is about, in this process."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from parley.cli import main


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


# One run at a time changes the process's environment and standard streams.
_ONE_AT_A_TIME = threading.Lock()


async def parley_here(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """What `parley(*args)` prints and exits with, run by `parley.cli.main` in this process (in
    a thread: it runs an event loop of its own) with `env` as its environment. A subprocess
    spends about 2 s of CPU starting an interpreter and importing the node before it does
    anything; test_cli runs the real entry point too. Like the subprocess, it shares no bus
    with a server the test runs."""
    return await asyncio.to_thread(_run_here, list(args), env)


def _run_here(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    out, err = io.StringIO(), io.StringIO()
    with (
        _ONE_AT_A_TIME,
        _environment(env),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        try:
            code = main(args)
        except SystemExit as exit_:  # argparse's usage errors
            code = exit_.code if isinstance(exit_.code, int) else 1
    return subprocess.CompletedProcess(["parley", *args], code, out.getvalue(), err.getvalue())


@contextlib.contextmanager
def _environment(env: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
