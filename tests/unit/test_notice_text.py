"""The words a moderation notice says to the person it affects: plain sentences, with no markup
and no machine timestamps, whatever client shows them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from parley.core.moderation import ModerationAction, notice_text


def test_a_suspension_with_an_end_reads_as_a_sentence() -> None:
    # Given in another zone, said in UTC, to the minute.
    until = datetime(2026, 12, 9, 19, 30, 42, tzinfo=timezone(timedelta(hours=1)))
    text = notice_text(ModerationAction.SUSPEND, "harassment", "Shouting over others", until)
    assert text == (
        "Your account was suspended until 9 December 2026, 18:30 UTC under the rule "
        "“harassment”. Reason: Shouting over others. You can appeal this once."
    )


def test_a_removed_post_is_quoted_and_a_reason_keeps_its_own_stop() -> None:
    text = notice_text(
        ModerationAction.REMOVE_POST, "spam", "Selling followers!", None, about="Buy followers"
    )
    assert text == (
        "A post of yours (“Buy followers”) was removed under the rule “spam”. "
        "Reason: Selling followers! You can appeal this once."
    )


def test_a_limit_with_no_end_names_none() -> None:
    text = notice_text(ModerationAction.LIMIT, "spam", "Ads in every space", None)
    assert text == (
        "Your account was limited (you can listen and read, but not post, host, speak or react) "
        "under the rule “spam”. Reason: Ads in every space. You can appeal this once."
    )
