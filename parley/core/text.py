"""Text that can be stored at all: the one rule shared by request validation and lookups."""

from __future__ import annotations


def storable(text: str) -> bool:
    """PostgreSQL refuses NUL in text (an error, not an empty result) and UTF-8 has no lone
    surrogates, so no stored value contains either."""
    return "\x00" not in text and not any(0xD800 <= ord(c) <= 0xDFFF for c in text)
