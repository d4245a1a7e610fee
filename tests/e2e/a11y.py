"""axe-core for the e2e tests: its pinned script, fetched on first use, and `check_a11y`."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.async_api import Page

AXE_VERSION = "4.14.1"
# The registry's integrity for that tarball: what npm pack hands us must be exactly it.
AXE_SHA512 = (
    "FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="
)
AXE = Path(__file__).with_name("vendor") / "axe.min.js"
NPM_FETCH = str(Path(__file__).parents[2] / "scripts" / "npm-fetch")
BLOCKING = ("serious", "critical")


@dataclass(frozen=True)
class Axe:
    """axe-core's script. Without it the tests fail, naming what is missing: accessibility
    checks that quietly did not run would read as checks that passed."""

    source: str


def fetch_axe() -> str:
    """axe-core's axe.min.js from the npm registry, checked against its pinned integrity
    (scripts/npm-fetch, as `make setup` fetches Swagger UI), kept in tests/e2e/vendor/."""
    if not AXE.exists():
        try:
            subprocess.run(
                [NPM_FETCH, "axe-core", AXE_VERSION, AXE_SHA512, str(AXE.parent), "axe.min.js"],
                check=True,
                timeout=180,
                capture_output=True,
                text=True,
            )
        except subprocess.CalledProcessError as error:
            raise LookupError(f"could not fetch axe-core {AXE_VERSION}: {error.stderr}") from None
        except (subprocess.SubprocessError, OSError) as error:
            raise LookupError(f"could not fetch axe-core {AXE_VERSION}: {error}") from None
        (AXE.parent / ".gitignore").write_text("# fetched by tests/e2e/a11y.py\n*\n")
    return AXE.read_text(encoding="utf-8")


async def check_a11y(page: Page, axe: Axe, screen: str, tags: Sequence[str] | None = None) -> None:
    """Runs axe-core on the page as it is; fails on serious or critical violations. With `tags`,
    runs only the rules so tagged (those axe leaves off by default too, such as target-size) and
    fails on any violation of them."""
    if not await page.evaluate("typeof window.axe === 'object'"):
        await page.evaluate(axe.source)
    violations: list[dict[str, Any]] = await page.evaluate(
        """async (tags) => {
          // Rules off by default (target-size) run only when switched on by name.
          const rules = tags ? axe.getRules(tags) : [];
          const on = Object.fromEntries(rules.map((r) => [r.ruleId, { enabled: true }]));
          const only = tags ? { runOnly: { type: "tag", values: tags }, rules: on } : {};
          const result = await axe.run(document, { resultTypes: ["violations"], ...only });
          return result.violations.map((v) => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 4).map((n) => n.target.join(" ")),
          }));
        }""",
        list(tags) if tags else None,
    )
    blocking = [v for v in violations if tags or v["impact"] in BLOCKING]
    others = ", ".join(f"{v['id']} ({v['impact']})" for v in violations if v not in blocking)
    counted = "violations of those rules" if tags else "serious or critical"
    print(f"axe {screen}: {len(blocking)} {counted}; others: {others or 'none'}")
    assert not blocking, f"{screen}: {blocking}"
