"""User text as parts: exact, links only for web URLs, stable ids; and when the redirector warns
although no rule does (look-alike hosts, new accounts)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parley.core.links.caution import caution, host_caution
from parley.core.links.render import link_id, text_parts


def test_parts_give_the_text_back_and_link_only_web_urls() -> None:
    text = "😀 see example.com/a, ftp://example.com/b //example.com/c and https://x.example/d"
    parts = text_parts(text, "acct")
    assert "".join(p.text for p in parts) == text
    assert [p.text for p in parts if p.href] == ["example.com/a", "https://x.example/d"]
    assert all(p.href is None or p.href.startswith("/l/") for p in parts)


def test_ids_are_stable_and_belong_to_their_writer() -> None:
    assert link_id("a", "example.com") == link_id("a", "example.com")
    assert link_id("a", "example.com") != link_id("b", "example.com")
    assert len(link_id("a", "x")) == 32
    assert text_parts("example.com", "a") == text_parts("example.com", "a")


@given(
    st.lists(
        st.sampled_from(
            ["example.com", " ", "😀", "ftp://a.com", "//b.com", "https://c.com/", "é"]
        ),
        max_size=12,
    ).map("".join)
)
def test_parts_always_join_to_the_text(text: str) -> None:
    parts = text_parts(text, "acct")
    assert "".join(p.text for p in parts) == text
    assert all(p.text for p in parts)


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("xn--pple-43d.com", "mixed_script"),  # аpple.com, a Cyrillic "а"
        ("xn--bcher-kva.example", "idn_host"),  # bücher.example
        ("xn--e1afmkfd.xn--p1ai", "idn_host"),  # пример.рф
        ("xn--r8jz45g.jp", "idn_host"),  # 例え.jp: kanji and kana are one writing system
        ("apple.com", None),
        ("1.2.3.4", None),
    ],
)
def test_internationalized_hosts_warn(host: str, reason: str | None) -> None:
    assert host_caution(host) == reason


def test_links_from_new_accounts_warn_until_the_account_is_old_enough() -> None:
    now = datetime(2026, 12, 2, tzinfo=UTC)
    days = 3.0
    young = now - timedelta(days=2)
    old = now - timedelta(days=3, seconds=1)
    assert caution("a.com", minter_since=young, now=now, new_account_days=days) == "new_account"
    assert caution("a.com", minter_since=old, now=now, new_account_days=days) is None
    assert caution("a.com", minter_since=young, now=now, new_account_days=0) is None
    assert caution("a.com", minter_since=None, now=now, new_account_days=days) is None
