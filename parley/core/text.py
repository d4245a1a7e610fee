"""Rules on characters: what can be stored at all, and what a reader can see."""

from __future__ import annotations

import unicodedata

from parley.core.errors import Invalid

# Embeddings, overrides and isolates reorder the text around them: `\u202e` makes "evil.exe"
# display as "exe.live". Marks (LRM, RLM, ALM) only nudge neutral characters and stay allowed.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Letters and symbols that render as blank space although Unicode does not call them spaces.
BLANK_GLYPHS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u17b4\u17b5")
# Categories with no glyph of their own: format characters (zero-width joiners, tags, BOM),
# separators (spaces of every width) and combining marks, which only decorate a base.
_INVISIBLE_CATEGORIES = ("Cf", "Zs", "Zl", "Zp", "Mn", "Me")


def storable(text: str) -> bool:
    """PostgreSQL refuses NUL in text (an error, not an empty result) and UTF-8 has no lone
    surrogates, so no stored value contains either."""
    return "\x00" not in text and not any(0xD800 <= ord(c) <= 0xDFFF for c in text)


def has_control_or_bidi_override(text: str) -> bool:
    return any(unicodedata.category(c) == "Cc" or c in BIDI_CONTROLS for c in text)


def has_visible_character(text: str) -> bool:
    """Whether anything would be drawn: a name of zero-width joiners, Hangul fillers or
    combining marks alone looks empty, and lets an account pass as no one."""
    return any(
        c not in BLANK_GLYPHS and unicodedata.category(c) not in _INVISIBLE_CATEGORIES for c in text
    )


def bounded_text(
    text: str, *, most: int, code: str, what: str, least: int = 1, strip: bool = True
) -> str:
    """What a person typed, stripped of surrounding blanks (unless `strip` is False: a password
    keeps every character), if it has `least` to `most` characters; else refused with `code`.
    `what` names the field in the message ("A title")."""
    if strip:
        text = text.strip()
    if not least <= len(text) <= most:
        span = f"at most {most}" if least == 0 else f"{least} to {most}"
        raise Invalid(code, f"{what} has {span} characters")
    return text
