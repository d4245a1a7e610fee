"""What people may type: handles, profiles, posts, and what a host writes about a space.

Every limit is shown at its boundary (the last accepted value) and one past it (refused with the
stable code clients match on). Lengths are written out here, not read from the module, so a limit
changed by mistake fails a test.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parley.core.accounts import (
    check_handle,
    check_password,
    clean_bio,
    clean_display_name,
    clean_post,
    handle_key,
)
from parley.core.errors import Invalid
from parley.core.moderation import clean_appeal, clean_comment, clean_message, clean_reason
from parley.core.spaces.validation import (
    check_schedule,
    clean_description,
    clean_title,
    clean_topics,
)
from parley.core.text import has_visible_character

FAST = settings(max_examples=200, deadline=None, database=None)

HANDLE_CHARS = string.ascii_letters + string.digits + "_"
# Printable text with no whitespace at either end once padded: no separators (Z*) and no
# control characters (C*), which is where every character `str.strip` removes lives.
VISIBLE = st.characters(blacklist_categories=("Z", "C"))
PADDING = st.text(alphabet=" \t\n", max_size=3)


def refused(code: str, check: Callable[[], object]) -> Invalid:
    with pytest.raises(Invalid) as caught:
        check()
    assert caught.value.code == code
    assert caught.value.status == 422
    assert caught.value.message  # a person reads this; it is never empty
    return caught.value


# --- handles -------------------------------------------------------------------------------


@pytest.mark.parametrize("handle", ["a", "Z", "0", "_", "a" * 15, "Ada_Lovelace_99", "___"])
def test_handles_of_1_to_15_letters_digits_or_underscores_are_accepted(handle: str) -> None:
    assert check_handle(handle) == handle


@pytest.mark.parametrize(
    "handle",
    [
        "",
        "a" * 16,
        "ada lovelace",
        " ada",
        "ada ",
        "ada\n",
        "ada-l",
        "ada.l",
        "@ada",
        "adé",  # a letter, but not one of A-Z
        "Ａda",  # full-width A
        "ada٣",  # an Arabic-Indic digit
        "ada\u200b",  # zero-width space
    ],
)
def test_other_handles_are_refused_with_invalid_handle(handle: str) -> None:
    refused("invalid_handle", lambda: check_handle(handle))


@FAST
@given(st.text(alphabet=HANDLE_CHARS, min_size=1, max_size=15))
def test_any_1_to_15_allowed_characters_make_a_handle(handle: str) -> None:
    assert check_handle(handle) == handle


@FAST
@given(st.text(alphabet=HANDLE_CHARS, min_size=16, max_size=40))
def test_no_handle_is_longer_than_15(handle: str) -> None:
    refused("invalid_handle", lambda: check_handle(handle))


@FAST
@given(
    st.text(alphabet=HANDLE_CHARS, max_size=7),
    st.characters().filter(lambda c: c not in HANDLE_CHARS),
    st.text(alphabet=HANDLE_CHARS, max_size=7),
)
def test_one_character_outside_the_set_spoils_a_handle(before: str, bad: str, after: str) -> None:
    refused("invalid_handle", lambda: check_handle(before + bad + after))


@FAST
@given(st.text(alphabet=HANDLE_CHARS, min_size=1, max_size=15))
def test_handles_differing_only_in_case_share_one_key(handle: str) -> None:
    key = handle_key(handle)
    assert handle_key(handle.swapcase()) == key
    assert handle_key(handle.upper()) == key
    # The key is itself a valid handle of the same length: it fits the unique column.
    assert check_handle(key) == key
    assert len(key) == len(handle)
    assert handle_key(key) == key


@FAST
@given(
    st.text(alphabet=HANDLE_CHARS, min_size=1, max_size=15),
    st.text(alphabet=HANDLE_CHARS, min_size=1, max_size=15),
)
def test_handles_differing_other_than_in_case_have_different_keys(a: str, b: str) -> None:
    assert (handle_key(a) == handle_key(b)) == (a.lower() == b.lower())


def test_handle_key_examples() -> None:
    assert handle_key("Ada_Lovelace") == handle_key("ada_lovelace") == handle_key("ADA_LOVELACE")
    assert handle_key("ada1") != handle_key("ada_1")


# --- passwords -----------------------------------------------------------------------------


def test_passwords_have_8_to_256_characters() -> None:
    assert check_password("x" * 8) == "x" * 8
    assert check_password("x" * 256) == "x" * 256
    refused("invalid_password", lambda: check_password("x" * 7))
    refused("invalid_password", lambda: check_password("x" * 257))
    refused("invalid_password", lambda: check_password(""))


def test_passwords_are_not_trimmed() -> None:
    # Spaces count: trimming them would silently change what the person chose.
    assert check_password("  secret  ") == "  secret  "
    refused("invalid_password", lambda: check_password(" " * 3 + "abcd"))


# --- display names, bios, posts ------------------------------------------------------------


def test_display_name_boundaries() -> None:
    assert clean_display_name("A") == "A"
    assert clean_display_name("n" * 50) == "n" * 50
    refused("invalid_display_name", lambda: clean_display_name("n" * 51))
    refused("invalid_display_name", lambda: clean_display_name(""))
    refused("invalid_display_name", lambda: clean_display_name("   \t "))


def test_display_names_are_trimmed_before_counting() -> None:
    assert clean_display_name("  Ada Lovelace \n") == "Ada Lovelace"
    assert clean_display_name("  " + "n" * 50 + "  ") == "n" * 50


def test_bio_boundaries() -> None:
    assert clean_bio("") == ""
    assert clean_bio("b" * 160) == "b" * 160
    assert clean_bio("  " + "b" * 160 + "\n") == "b" * 160
    refused("invalid_bio", lambda: clean_bio("b" * 161))


def test_post_boundaries() -> None:
    assert clean_post("p") == "p"
    assert clean_post("p" * 280) == "p" * 280
    assert clean_post("\n " + "p" * 280 + " ") == "p" * 280
    refused("invalid_post", lambda: clean_post("p" * 281))
    refused("invalid_post", lambda: clean_post(""))
    refused("invalid_post", lambda: clean_post(" \n\t "))


def test_lengths_count_characters_not_bytes() -> None:
    # 280 emoji are 1,120 bytes of UTF-8 and still one post.
    assert clean_post("🎉" * 280) == "🎉" * 280
    refused("invalid_post", lambda: clean_post("🎉" * 281))
    assert clean_display_name("é" * 50) == "é" * 50


@FAST
@given(PADDING, st.text(VISIBLE, min_size=1, max_size=280), PADDING)
def test_any_post_of_1_to_280_characters_is_kept_trimmed(left: str, text: str, right: str) -> None:
    assert clean_post(left + text + right) == text


@FAST
@given(PADDING, st.text(VISIBLE, min_size=281, max_size=400), PADDING)
def test_any_post_longer_than_280_is_refused(left: str, text: str, right: str) -> None:
    refused("invalid_post", lambda: clean_post(left + text + right))


@FAST
# A name of combining marks alone draws nothing, and is refused (test above): not one of these.
@given(PADDING, st.text(VISIBLE, min_size=1, max_size=50).filter(has_visible_character), PADDING)
def test_any_display_name_of_1_to_50_characters_is_kept_trimmed(
    left: str, name: str, right: str
) -> None:
    assert clean_display_name(left + name + right) == name


@FAST
@given(st.text(VISIBLE, min_size=161, max_size=300))
def test_any_bio_longer_than_160_is_refused(bio: str) -> None:
    refused("invalid_bio", lambda: clean_bio(bio))


# --- what a host writes about a space ------------------------------------------------------


def test_title_boundaries() -> None:
    assert clean_title("T") == "T"
    assert clean_title("t" * 100) == "t" * 100
    refused("invalid_title", lambda: clean_title("t" * 101))
    refused("invalid_title", lambda: clean_title(""))
    refused("invalid_title", lambda: clean_title("    "))


def test_titles_are_trimmed_before_counting() -> None:
    assert clean_title("  Morning show \n") == "Morning show"
    assert clean_title("\t" + "t" * 100 + "   ") == "t" * 100


@FAST
@given(PADDING, st.text(VISIBLE, min_size=1, max_size=100), PADDING)
def test_any_title_of_1_to_100_characters_is_kept_trimmed(
    left: str, title: str, right: str
) -> None:
    assert clean_title(left + title + right) == title


@FAST
@given(st.text(VISIBLE, min_size=101, max_size=200))
def test_any_title_longer_than_100_is_refused(title: str) -> None:
    refused("invalid_title", lambda: clean_title(title))


def test_description_boundaries() -> None:
    assert clean_description("") == ""
    assert clean_description("d" * 1000) == "d" * 1000
    assert clean_description(" " + "d" * 1000 + " ") == "d" * 1000
    refused("invalid_description", lambda: clean_description("d" * 1001))


# --- what moderators, reporters and appellants write ---------------------------------------


@pytest.mark.parametrize(
    ("clean", "code", "required", "most"),
    [
        (clean_reason, "invalid_reason", True, 1000),
        (clean_appeal, "invalid_appeal", True, 2000),
        (clean_comment, "invalid_comment", False, 1000),
        (clean_message, "invalid_message", False, 280),
    ],
)
def test_moderation_text_boundaries(
    clean: Callable[[str], str], code: str, required: bool, most: int
) -> None:
    assert clean("m" * most) == "m" * most
    assert clean(" \n" + "m" * most + "\t ") == "m" * most
    too_long = refused(code, lambda: clean("m" * (most + 1)))
    assert str(most) in too_long.message  # the person is told the limit they passed
    if required:
        refused(code, lambda: clean(" \n "))
    else:
        assert clean(" \n ") == ""


def test_up_to_three_topics_of_up_to_30_characters() -> None:
    assert clean_topics([]) == ()
    assert clean_topics(["music"]) == ("music",)
    assert clean_topics(["a", "b", "c"]) == ("a", "b", "c")
    assert clean_topics(["x" * 30]) == ("x" * 30,)
    assert clean_topics([" jazz ", "\tblues"]) == ("jazz", "blues")


@pytest.mark.parametrize(
    "topics",
    [
        ["a", "b", "c", "d"],  # a fourth topic
        ["x" * 31],  # one character too long
        [""],  # empty
        ["   "],  # empty once trimmed
        ["ok", ""],
    ],
)
def test_other_topics_are_refused_with_invalid_topics(topics: list[str]) -> None:
    refused("invalid_topics", lambda: clean_topics(topics))


def test_repeated_topics_count_once_and_keep_their_order() -> None:
    assert clean_topics(["jazz", "blues", " jazz", "soul"]) == ("jazz", "blues", "soul")


@FAST
@given(st.lists(st.text(VISIBLE, min_size=1, max_size=30), min_size=4, max_size=8, unique=True))
def test_never_more_than_three_distinct_topics(topics: list[str]) -> None:
    refused("invalid_topics", lambda: clean_topics(topics))


@FAST
@given(st.lists(st.text(VISIBLE, min_size=1, max_size=30), max_size=3, unique=True))
def test_any_three_topics_within_the_limit_are_kept(topics: list[str]) -> None:
    assert clean_topics(topics) == tuple(topics)


NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def test_a_space_can_be_scheduled_up_to_30_days_ahead() -> None:
    soonest = NOW + timedelta(microseconds=1)
    latest = NOW + timedelta(days=30)
    assert check_schedule(soonest, NOW) == soonest
    assert check_schedule(latest, NOW) == latest
    refused("invalid_schedule", lambda: check_schedule(latest + timedelta(microseconds=1), NOW))


def test_a_scheduled_start_must_be_in_the_future() -> None:
    refused("invalid_schedule", lambda: check_schedule(NOW, NOW))
    refused("invalid_schedule", lambda: check_schedule(NOW - timedelta(seconds=1), NOW))


def test_a_scheduled_start_needs_a_time_zone() -> None:
    naive = (NOW + timedelta(days=1)).replace(tzinfo=None)
    refused("invalid_schedule", lambda: check_schedule(naive, NOW))


def test_schedule_limits_hold_in_any_time_zone() -> None:
    paris = timezone(timedelta(hours=2))
    latest = (NOW + timedelta(days=30)).astimezone(paris)
    assert check_schedule(latest, NOW) == latest
    refused("invalid_schedule", lambda: check_schedule(latest + timedelta(seconds=1), NOW))
