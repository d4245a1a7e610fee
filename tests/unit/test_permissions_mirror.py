"""The web client's permission helper against the server's table, so the two cannot drift apart.

The page offers a control only when `may` in parley/web/js/permissions.js allows it; the server
decides with `authorize` in parley/core/spaces/permissions.py. Node.js runs the helper over every
action, every actor role, every target (none, or each role), on oneself and on another, and each
answer must be the server's: allowed exactly when `authorize` does not raise. A row changed on one
side only fails here, naming the cases that now disagree.

Needs Node.js (`node`: Debian's nodejs, which npm in system-packages.txt brings; marker `node`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import product
from pathlib import Path

import pytest

from parley.core.errors import Forbidden
from parley.core.spaces.model import Role
from parley.core.spaces.permissions import PERMISSIONS, Action, authorize
from tests.support.node_js import module_url, run_script

pytestmark = pytest.mark.node

HELPER = Path(__file__).parents[2] / "parley" / "web" / "js" / "permissions.js"


@dataclass(frozen=True)
class Case:
    action: Action
    role: Role
    target: Role | None
    is_self: bool

    def server_allows(self) -> bool:
        try:
            authorize(self.action, self.role, target_role=self.target, is_self=self.is_self)
        except Forbidden:
            return False
        return True

    def wire(self) -> list[object]:
        return [self.action.value, self.role.value, self.target and self.target.value, self.is_self]


CASES = [
    Case(action, role, target, is_self)
    for action, role, target, is_self in product(Action, Role, [None, *Role], [True, False])
]


@dataclass(frozen=True)
class HelperAnswers:
    table: dict[str, dict[str, str]]
    may: list[bool]
    moderates: dict[str, bool]


def ask_the_helper(cases: list[Case]) -> HelperAnswers:
    """Loads permissions.js as the browser does (an ES module) and asks it every case."""
    script = f"""
      const js = await import("{module_url(HELPER)}");
      const cases = {json.dumps([case.wire() for case in cases])};
      console.log(JSON.stringify({{
        table: js.PERMISSIONS,
        may: cases.map(([action, role, target, self]) => js.may(role, action, {{ target, self }})),
        moderates: Object.fromEntries(js.ROLES.map((role) => [role, js.moderates(role)])),
      }}));
    """
    answers = json.loads(run_script(script))
    return HelperAnswers(answers["table"], answers["may"], answers["moderates"])


@pytest.fixture(scope="module")
def helper() -> HelperAnswers:
    return ask_the_helper(CASES)


def test_the_helper_has_the_servers_table_row_by_row(helper: HelperAnswers) -> None:
    server = {
        action.value: {role.value: allowed.value for role, allowed in row.items()}
        for action, row in PERMISSIONS.items()
    }
    assert helper.table == server


def test_the_helper_answers_every_case_as_the_server_decides(helper: HelperAnswers) -> None:
    assert len(helper.may) == len(CASES) == len(Action) * len(Role) * 5 * 2
    verdict = {True: "allows", False: "refuses"}
    disagree = [
        f"{c.role.value} {c.action.value} on {'self' if c.is_self else c.target or 'another'}: "
        f"server {verdict[c.server_allows()]}, page {verdict[m]}"
        for c, m in zip(CASES, helper.may, strict=True)
        if m != c.server_allows()
    ]
    assert not disagree, "\n".join(disagree)


def test_the_helpers_moderators_are_the_servers(helper: HelperAnswers) -> None:
    assert helper.moderates == {role.value: role.moderates for role in Role}
