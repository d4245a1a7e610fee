"""Session tokens (services/common.py): never mistaken for API tokens."""

from __future__ import annotations

import pytest

from parley.core.tokens import is_api_token
from parley.services import common


def test_a_session_token_never_reads_as_an_api_token(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn = iter(["pt_drawn-first", "pt_drawn-second", "a-session-token"])
    monkeypatch.setattr("parley.services.common.secrets.token_urlsafe", lambda _n: next(drawn))
    token = common.new_session_token()
    assert token == "a-session-token"
    assert not is_api_token(token)
