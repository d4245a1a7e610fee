"""The direction data flows in, as the README's Layout section and DESIGN.md draw it: `core` is
pure (it imports nothing of ours but itself, and no library that does I/O), `store` and `bus`
build on `core` alone, `services` orchestrate them, and `api` stays a thin layer over `services`
(it never reaches into `store`). Nothing imports back up. The entry points (`cli`, `demo`,
`workers`) wire everything and are free. In tests, no test module imports another: what several
share lives in tests/support and the non-test modules of tests/e2e.
"""

from __future__ import annotations

import ast
from pathlib import Path

PARLEY = Path(__file__).parents[2] / "parley"
TESTS = Path(__file__).parents[1]

# Which of our packages each layer may import (its own included).
ALLOWED = {
    "core": {"core"},
    "config": {"core", "config"},
    "store": {"core", "store"},
    "bus": {"core", "bus"},
    "media": {"core", "config", "media"},
    "services": {"core", "config", "store", "bus", "media", "services"},
    "api": {"core", "config", "bus", "services", "api"},
}
# Libraries that talk to the world: `core` decides, it does not do.
IO_LIBRARIES = {
    "aiortc",
    "aiosqlite",
    "asyncio",
    "asyncpg",
    "av",
    "fastapi",
    "httpx",
    "os",
    "redis",
    "socket",
    "sqlalchemy",
    "ssl",
    "starlette",
    "subprocess",
    "websockets",
}


def imported(source: str) -> set[str]:
    """The module names a source imports, anywhere in it (a function's own imports included).
    Ours are imported by absolute name only (ruff's isort rules keep it so)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def layer_of(path: Path) -> str:
    inside = path.relative_to(PARLEY).parts
    return inside[0] if len(inside) > 1 else path.stem


def breaches(layer: str, names: set[str]) -> set[str]:
    """The imports a module of `layer` may not make."""
    allowed = ALLOWED.get(layer)
    if allowed is None:
        return set()
    forbidden = IO_LIBRARIES if layer == "core" else set()
    wrong = set()
    for name in names:
        top, _, rest = name.partition(".")
        ours_elsewhere = top == "parley" and rest.split(".")[0] not in allowed
        if ours_elsewhere or top in forbidden:
            wrong.add(name)
    return wrong


def test_no_layer_imports_up_or_sideways() -> None:
    found = {}
    for path in sorted(PARLEY.rglob("*.py")):
        if "migrations" in path.parts:
            continue  # Alembic's scripts: run by the store, importing nothing back
        wrong = breaches(layer_of(path), imported(path.read_text()))
        if wrong:
            found[str(path.relative_to(PARLEY))] = sorted(wrong)
    assert not found, f"imports against the layering: {found}"


def test_the_check_finds_an_upward_import_and_io_in_core() -> None:
    assert breaches("store", imported("from parley.services.spaces import SpaceService")) == {
        "parley.services.spaces"
    }
    assert breaches("api", imported("def f():\n    import parley.store.spaces\n")) == {
        "parley.store.spaces"
    }
    assert breaches("core", imported("import asyncio\nfrom sqlalchemy import select")) == {
        "asyncio",
        "sqlalchemy",
    }
    assert breaches("services", imported("from parley.core.errors import NotFound")) == set()


def test_no_test_module_imports_another() -> None:
    found = {}
    for path in sorted(TESTS.rglob("*.py")):
        wrong = {
            name
            for name in imported(path.read_text())
            if name.startswith("tests.") and name.rsplit(".", 1)[-1].startswith("test_")
        }
        if wrong:
            found[str(path.relative_to(TESTS))] = sorted(wrong)
    assert not found, f"test modules imported as libraries: {found}"
