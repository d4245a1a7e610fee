"""A rough pronunciation for a word the recognizer's dictionary lacks (most often a name), from
its spelling: letter groups to ARPAbet, the phone set of the bundled en-us model. Rough is
enough: it gives the decoder a path to the word, the acoustics do the rest.
"""

from __future__ import annotations

# Longest groups first; a group maps to one or more phones ("" drops it).
_GROUPS: tuple[tuple[str, str], ...] = (
    ("tch", "CH"), ("sch", "S K"), ("igh", "AY"), ("ough", "AO"),
    ("ch", "CH"), ("sh", "SH"), ("th", "TH"), ("ph", "F"), ("wh", "W"), ("ck", "K"),
    ("ng", "NG"), ("qu", "K W"), ("ee", "IY"), ("ea", "IY"), ("oo", "UW"), ("ou", "AW"),
    ("ow", "OW"), ("oi", "OY"), ("oy", "OY"), ("ai", "EY"), ("ay", "EY"), ("ei", "EY"),
    ("ie", "IY"), ("au", "AO"), ("aw", "AO"), ("er", "ER"), ("ir", "ER"), ("ur", "ER"),
    ("ar", "AA R"), ("or", "AO R"), ("kn", "N"), ("wr", "R"), ("gh", "G"), ("dg", "JH"),
    ("a", "AE"), ("b", "B"), ("c", "K"), ("d", "D"), ("e", "EH"), ("f", "F"), ("g", "G"),
    ("h", "HH"), ("i", "IH"), ("j", "JH"), ("k", "K"), ("l", "L"), ("m", "M"), ("n", "N"),
    ("o", "OW"), ("p", "P"), ("q", "K"), ("r", "R"), ("s", "S"), ("t", "T"), ("u", "AH"),
    ("v", "V"), ("w", "W"), ("x", "K S"), ("y", "IY"), ("z", "Z"),
)  # fmt: skip


def pronounce(word: str) -> str:
    """Space-separated phones for `word` (lower-case letters and apostrophes); "" if none."""
    text = "".join(c for c in word.lower() if "a" <= c <= "z")
    if text.endswith("e") and len(text) > 3:
        text = text[:-1]  # a final silent e
    phones: list[str] = []
    at = 0
    while at < len(text):
        for group, sounds in _GROUPS:
            if text.startswith(group, at):
                # A "y" that starts a word is a consonant ("yuki"), elsewhere a vowel.
                sounds = "Y" if group == "y" and at == 0 else sounds
                if sounds and (not phones or phones[-1] != sounds):
                    phones.append(sounds)
                at += len(group)
                break
        else:
            at += 1
    return " ".join(phones)
