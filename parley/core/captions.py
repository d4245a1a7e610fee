"""Captions and transcripts as plain records, and the rules that need no I/O: which engine, what
words a space's vocabulary holds, and the WebVTT a transcript renders to.

Times are seconds from the space's start, so a transcript lines up with anything else that
counts from there (the event log's `at`, a recording of the whole space).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum


class CaptionEngine(StrEnum):
    OFF = "off"
    POCKETSPHINX = "pocketsphinx"
    WHISPER = "whisper"
    VOSK = "vosk"


@dataclass(frozen=True)
class Caption:
    """What one speaker said: a partial (still being spoken, may change) or a final line."""

    speaker: str  # account id
    text: str
    final: bool
    start: float  # seconds from the space's start
    end: float


@dataclass(frozen=True)
class TranscriptLine:
    """A final caption as the transcript keeps it, with the speaker's name when read."""

    space_id: str
    speaker: str
    speaker_name: str
    text: str
    start: float
    end: float


@dataclass(frozen=True)
class TranscriptHit:
    """A transcript line found by a search, with the title of its space."""

    line: TranscriptLine
    space_title: str


# Words of a space's title, topics and speakers' names that recognition should expect; longer
# vocabularies only slow the decoder down for no gain.
VOCABULARY_LIMIT = 60
_WORD = re.compile(r"[a-z][a-z']*")
# Too common to be worth telling a recognizer about: it knows them already.
_COMMON = frozenset(
    ("a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "in", "is",
     "it", "its", "of", "on", "or", "that", "the", "this", "to", "was", "were", "will", "with",
     "you", "your", "we", "our", "i", "me", "my")
)  # fmt: skip


def vocabulary(title: str, topics: Iterable[str], names: Iterable[str]) -> tuple[str, ...]:
    """The distinct lower-case words a space is likely to hear, names first (most likely to be
    unknown to a general model), common words left out."""
    words: list[str] = []
    for text in (*names, *topics, title):
        for word in _WORD.findall(text.lower()):
            word = word.strip("'")
            if len(word) > 1 and word not in _COMMON and word not in words:
                words.append(word)
    return tuple(words[:VOCABULARY_LIMIT])


def to_millis(seconds: float) -> int:
    """A time as every rendering of a transcript states it: whole milliseconds, never before
    the start. WebVTT and the API's lines both go through here, so a client comparing the two
    finds the same number (rounding 3.5075 s as a decimal and as a float differ in a third of
    the half-millisecond cases)."""
    return max(0, round(seconds * 1000))


def _timestamp(seconds: float) -> str:
    millis = to_millis(seconds)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def _cue_text(text: str) -> str:
    # A cue's text may not hold "-->" nor a blank line, and &, < are markup.
    flat = " ".join(text.split()).replace("-->", "->")
    return flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_NOT_IN_VOICE = str.maketrans({"<": " ", ">": " "})


def _voice(name: str) -> str:
    # A voice annotation ends at ">"; its name is plain text.
    return " ".join(name.translate(_NOT_IN_VOICE).replace("&", "and").split()) or "speaker"


def webvtt(
    lines: Sequence[TranscriptLine], *, timestamp_map: tuple[int, float] | None = None
) -> str:
    """The transcript as a WebVTT file: one cue per line, in order of start, each voiced by its
    speaker (`<v Name>`), so a player shows who said it. With `timestamp_map` (an MPEG-TS
    timestamp at 90 kHz, and the cue time it plays at), the header HLS subtitles segments carry
    to align cues with the audio segments' own timestamps (RFC 8216, 3.5)."""
    out = ["WEBVTT"]
    if timestamp_map is not None:
        mpegts, local = timestamp_map
        out.append(f"X-TIMESTAMP-MAP=MPEGTS:{mpegts},LOCAL:{_timestamp(local)}")
    out.append("")
    for number, line in enumerate(sorted(lines, key=lambda x: (x.start, x.end)), start=1):
        end = max(line.end, line.start + 0.001)
        out += [
            str(number),
            f"{_timestamp(line.start)} --> {_timestamp(end)}",
            f"<v {_voice(line.speaker_name)}>{_cue_text(line.text)}",
            "",
        ]
    return "\n".join(out)
