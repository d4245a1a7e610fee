"""The web client's words for the audit log's actions (parley/web/js/audit-actions.js: the admin
console's log and its filter, the transparency report) against the server's AuditAction: an
action added on the server and not to the client would show as its code, and be missing from the
console's filter.

Needs Node.js (`node`: Debian's nodejs, which npm in system-packages.txt brings; marker `node`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from parley.core.moderation import AuditAction
from tests.support.node_js import module_url, run_script

pytestmark = pytest.mark.node

WORDS = Path(__file__).parents[2] / "parley" / "web" / "js" / "audit-actions.js"


def test_the_console_has_words_for_every_audit_action_and_no_other() -> None:
    script = f"""
      const {{ ACTIONS }} = await import("{module_url(WORDS)}");
      console.log(JSON.stringify(ACTIONS));
    """
    words: dict[str, str] = json.loads(run_script(script))
    assert sorted(words) == sorted(action.value for action in AuditAction)
    # Words, each different, so the filter's choices can be told apart.
    assert all(text and text != code for code, text in words.items())
    assert len(set(words.values())) == len(words)
