"""Finding 8.7: anyone could sign up as @admin or @support, or take a display name that shows
as nothing (zero-width characters, Hangul fillers) or that reverses the text around it
(bidirectional overrides). Reserved handles and such names are refused, on sign-up and on
every later change, while real names in any script (and emoji sequences) stay welcome."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from parley.core.accounts import check_handle_unreserved, clean_display_name
from parley.core.actors import OPERATOR
from parley.core.errors import Invalid
from tests.support.clients import PASSWORD, Person, http_client
from tests.support.servers import ServerThread

RESERVED = ["admin", "Admin", "ADMIN_1", "support", "moderator", "root", "security", "me"]
INSTANCE_STAFF = ["parley", "Parley_Support", "supportparley", "parley_team", "PARLEY2"]
FREE = ["ada", "badminton", "rootbeer_fan", "mod", "supporter", "parleyfan", "grace_h"]

INVISIBLE_NAMES = [
    "\u200b",  # zero-width space
    "\u200d\u200d",  # zero-width joiners
    "\u3164",  # Hangul filler
    "\u115f\u1160",  # Hangul choseong and jungseong fillers
    "\u2800",  # Braille blank
    "\ufeff",  # byte order mark
    "\u0301\u0301",  # combining marks with nothing to sit on
    "\U000e0041\U000e0042",  # tag characters
    "\u00a0\u2003\u3000",  # spaces of other widths
]
DIRECTION_OVERRIDES = [
    "Ada\u202eevil",  # right-to-left override
    "\u202dAda",  # left-to-right override
    "Ada\u2067x\u2069",  # isolates
    "Ada\u202bx\u202c",  # embedding
]
CONTROLS = ["Ada\x07", "Ada\x1b[31m", "Ada\nLovelace", "Ada\u0085Lovelace"]
WELCOME = ["Ada Lovelace", "Ζωή", "李小龍", "محمد", "👩‍🚀 Astronaut", "José\u0301", "O'Brien"]


def refused(code: str, work: Callable[[], object]) -> None:
    with pytest.raises(Invalid) as caught:
        work()
    assert caught.value.code == code


@pytest.mark.parametrize("handle", RESERVED + INSTANCE_STAFF)
def test_reserved_handles_are_refused(handle: str) -> None:
    refused("reserved_handle", lambda: check_handle_unreserved(handle, "Parley"))


@pytest.mark.parametrize("handle", FREE)
def test_ordinary_handles_stay_free(handle: str) -> None:
    assert check_handle_unreserved(handle, "Parley") == handle


def test_the_instance_name_is_a_setting() -> None:
    assert check_handle_unreserved("parley_support", "Chorus") == "parley_support"
    refused("reserved_handle", lambda: check_handle_unreserved("chorus_help", "Chorus"))


@pytest.mark.parametrize("name", INVISIBLE_NAMES + DIRECTION_OVERRIDES + CONTROLS)
def test_names_that_show_nothing_or_reorder_text_are_refused(name: str) -> None:
    refused("invalid_display_name", lambda: clean_display_name(name))


@pytest.mark.parametrize("name", WELCOME)
def test_real_names_in_any_script_are_welcome(name: str) -> None:
    assert clean_display_name(name) == name


async def test_sign_up_and_profile_changes_apply_the_rules(server: ServerThread) -> None:
    async with http_client(base_url=f"{server.base_url}/api/v1") as http:
        for handle in ("admin", "Parley_Support"):
            r = await http.post(
                "/accounts", json={"handle": handle, "password": PASSWORD, "display_name": "Hi"}
            )
            assert (r.status_code, r.json()["code"]) == (422, "reserved_handle"), r.text
        r = await http.post(
            "/accounts", json={"handle": "ghost", "password": PASSWORD, "display_name": "\u3164"}
        )
        assert (r.status_code, r.json()["code"]) == (422, "invalid_display_name"), r.text
    ada = await Person.sign_up(server.base_url, "ada", "Ada")
    for name in ("\u200b\u200b", "Ada\u202eevil"):
        await ada.refused(
            "PATCH", "/accounts/me", 422, "invalid_display_name", json={"display_name": name}
        )
    assert (await ada.call("GET", "/accounts/ada", 200))["display_name"] == "Ada"
    await ada.close()


async def test_the_operator_may_create_a_reserved_handle(server: ServerThread) -> None:
    """`parley admin create-user support` is how an instance gets its own staff accounts."""
    made = server.call(server.node.accounts.sign_up("support", PASSWORD, "Support", by=OPERATOR))
    assert made.handle == "support"
