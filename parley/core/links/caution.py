"""When the redirector warns although no rule does: look-alike hosts and links from new accounts.

An internationalized host (any `xn--` label) can imitate another one letter for letter
(`аpple.com` with a Cyrillic "а"), and a browser's address bar may show it in Unicode; so the
redirector shows its warning page for every such host, saying whether it mixes scripts (the
classic homograph) or only uses non-Latin letters. New accounts are where spam and phishing
come from: their links warn too, for the first days of the account (a setting), checked at click
time, so an account's links stop warning once it has been around that long.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta
from typing import Final

import idna

__all__ = ["CAUTIONS", "caution", "host_caution"]

CAUTIONS: Final = {
    "mixed_script": (
        "The address mixes letters from different alphabets, as look-alike addresses do: "
        "it may not be the site it resembles."
    ),
    "idn_host": (
        "The address uses international letters, some of which look like others: "
        "check it is the site you expect."
    ),
    "new_account": "This link was shared by an account created only recently.",
}


def caution(
    host: str, *, minter_since: datetime | None, now: datetime, new_account_days: float
) -> str | None:
    """Why to warn about a link to `host` (canonical, ASCII) that no rule warns about, if at all:
    a code of `CAUTIONS`. `minter_since`: when the account that shared it was created."""
    reason = host_caution(host)
    if reason is not None:
        return reason
    if (
        minter_since is not None
        and new_account_days > 0
        and now - minter_since < timedelta(days=new_account_days)
    ):
        return "new_account"
    return None


def host_caution(host: str) -> str | None:
    labels = [label for label in host.split(".") if label.startswith("xn--")]
    if not labels:
        return None
    for label in labels:
        if len(_scripts(_unicode(label))) > 1:
            return "mixed_script"
    return "idn_host"


def _unicode(label: str) -> str:
    try:
        return idna.decode(label)
    except idna.IDNAError:
        try:
            return label[4:].encode("ascii").decode("punycode")
        except (UnicodeError, ValueError):
            return label


# Scripts that are written together in one language (Japanese, Korean, Chinese) count as one.
_EAST_ASIAN: Final = frozenset({"CJK", "HIRAGANA", "KATAKANA", "HANGUL", "BOPOMOFO"})


def _scripts(label: str) -> set[str]:
    """The scripts of a label's letters, approximated by the first word of each letter's
    Unicode name (LATIN, CYRILLIC, GREEK, ...); digits and hyphens belong to none."""
    scripts = set()
    for char in label:
        if unicodedata.category(char).startswith("L"):
            script = unicodedata.name(char, "UNKNOWN").split(" ", 1)[0]
            scripts.add("CJK" if script in _EAST_ASIAN else script)
    return scripts
