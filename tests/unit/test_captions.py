"""Captions' pure parts: the voice gate, a space's vocabulary, WebVTT, the bus message of a
partial caption, and the start-up errors of an engine that cannot run."""

from __future__ import annotations

import json
import re
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parley.api.schemas.captions import PlacedLineOut, TranscriptLineOut
from parley.bus.messages import LiveCaption, decode, encode, space_channel
from parley.config import Settings
from parley.core.captions import Caption, CaptionEngine, TranscriptLine, vocabulary, webvtt
from parley.core.transcripts import PlacedLine
from parley.media.captions.engines import CaptionsUnavailable, EngineSpec, check
from parley.media.captions.gate import Step, VoiceGate
from parley.media.captions.phones import pronounce
from parley.services.captions import engine_spec

LOUD, QUIET = -20.0, -90.0


def run(gate: VoiceGate, levels: list[float]) -> list[Step]:
    return [gate.step(level, at * 0.02) for at, level in enumerate(levels)]


def test_a_phrase_opens_on_voice_survives_short_pauses_and_closes_after_the_hangover() -> None:
    gate = VoiceGate(hangover_s=0.1)
    steps = run(gate, [QUIET] * 3 + [LOUD] * 5 + [QUIET] * 3 + [LOUD] * 2 + [QUIET] * 8)
    assert steps[:3] == [Step.QUIET] * 3
    assert steps[3] is Step.OPENED
    # A pause shorter than the hangover is part of the phrase; one longer closes it, once.
    assert steps.count(Step.OPENED) == 1 and steps.count(Step.CLOSED) == 1
    closed = steps.index(Step.CLOSED)
    assert closed in (17, 18)  # 100 ms after the last loud tick, the 13th
    assert set(steps[closed + 1 :]) == {Step.QUIET}
    assert gate.last_loud == pytest.approx(12 * 0.02)


def test_a_long_monologue_is_cut_into_phrases_so_finals_keep_coming() -> None:
    steps = run(VoiceGate(max_phrase_s=1.0), [LOUD] * 200)  # four seconds without a pause
    assert steps.count(Step.CLOSED) >= 3 and steps.count(Step.OPENED) >= 4


def test_silence_never_opens_a_phrase() -> None:
    assert set(run(VoiceGate(), [QUIET] * 500)) == {Step.QUIET}


def test_vocabulary_takes_names_first_and_leaves_common_words_out() -> None:
    words = vocabulary("The Future of Open Source", ["Rust", "open source"], ["Zoltan Kovacs"])
    assert words[:2] == ("zoltan", "kovacs")
    assert "the" not in words and "of" not in words
    assert words.count("open") == 1 and "rust" in words


def test_unknown_words_get_a_pronunciation_in_the_models_phones() -> None:
    phones = {
        "AA", "AE", "AH", "AO", "AW", "AY", "B", "CH", "D", "DH", "EH", "ER", "EY", "F", "G",
        "HH", "IH", "IY", "JH", "K", "L", "M", "N", "NG", "OW", "OY", "P", "R", "S", "SH", "T",
        "TH", "UH", "UW", "V", "W", "Y", "Z", "ZH",
    }  # fmt: skip
    for word in ("kubernetes", "priya", "yusuf", "xochitl", "parley"):
        said = pronounce(word).split()
        assert said and set(said) <= phones, (word, said)
    assert pronounce("'") == ""


def test_webvtt_is_valid_with_voices_in_time_order() -> None:
    lines = [
        TranscriptLine("s", "b", "Bob <the> builder", "second --> line & more", 3723.5, 3725.25),
        TranscriptLine("s", "a", "Alice", "first line", 1.0, 2.0),
    ]
    text = webvtt(lines)
    assert text.startswith("WEBVTT\n\n")
    cues = text.strip().split("\n\n")[1:]
    assert cues[0].splitlines() == ["1", "00:00:01.000 --> 00:00:02.000", "<v Alice>first line"]
    assert cues[1].splitlines() == [
        "2",
        "01:02:03.500 --> 01:02:05.250",
        "<v Bob the builder>second -&gt; line &amp; more",
    ]
    timing = re.compile(r"^\d{2}:\d{2}:\d{2}\.\d{3} --> \d{2}:\d{2}:\d{2}\.\d{3}$")
    assert all(timing.match(cue.splitlines()[1]) for cue in cues)


@given(st.integers(0, 36_000_000).map(lambda half_millis: half_millis / 2000))
def test_the_apis_lines_and_the_webvtt_state_the_same_millisecond(start: float) -> None:
    # Once a line at 3.5075 s read 3.507 in the API and 3.508 in the WebVTT (rounded as a
    # decimal in one, as a float in the other): a client matching the two found nothing.
    line = TranscriptLine("s", "a", "Alice", "hello", start, start + 1.25)
    timing = webvtt([line]).split("\n\n")[1].splitlines()[1]
    stated = json.loads(TranscriptLineOut.of(line).model_dump_json(), parse_float=Decimal)
    for side, at in zip(timing.split(" --> "), ("start", "end"), strict=True):
        hours, minutes, seconds = side.split(":")
        assert Decimal(hours) * 3600 + Decimal(minutes) * 60 + Decimal(seconds) == stated[at]


@given(st.integers(0, 36_000_000).map(lambda half_millis: half_millis / 2000))
def test_a_placed_lines_replay_link_goes_to_the_time_it_states(at: float) -> None:
    line = TranscriptLine("s", "a", "Alice", "hello", 1.0, 2.0)
    placed = PlacedLineOut.placed(PlacedLine(line, at))
    assert placed.replay_at is not None and placed.replay_link is not None
    assert placed.replay_link.endswith(f"?t={placed.replay_at:.1f}")


def test_a_partial_caption_travels_the_bus_without_a_number() -> None:
    said = Caption("acc1", "hello there", False, 1.5, 2.25)
    text = encode(LiveCaption("sp1", said))
    assert '"seq"' not in text
    assert decode(space_channel("sp1"), text) == LiveCaption("sp1", said)


def test_a_malformed_partial_caption_is_ignored() -> None:
    text = '{"type":"caption","data":{"speaker":1,"text":"x","final":false,"start":0,"end":1}}'
    assert decode(space_channel("sp1"), text) is None


def test_the_products_default_is_captions_on_with_the_bundled_engine() -> None:
    assert Settings().captions is CaptionEngine.POCKETSPHINX
    assert engine_spec(Settings(captions="off")) is None
    assert engine_spec(Settings()) is not None  # the wheel and its model are installed


def test_a_wrong_tuning_is_refused_at_start_up_naming_the_choices() -> None:
    with pytest.raises(CaptionsUnavailable, match=r"pick one of .*default"):
        engine_spec(Settings(captions_tuning="turbo"))


@pytest.mark.parametrize(("engine", "package"), [("vosk", "vosk"), ("whisper", "faster_whisper")])
def test_an_engine_whose_package_is_missing_says_what_to_install(
    engine: str, package: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, package, None)  # import fails, as when not installed
    with pytest.raises(CaptionsUnavailable, match="needs the Python package"):
        engine_spec(Settings(captions=engine, captions_model=tmp_path))


@pytest.mark.parametrize("engine", [CaptionEngine.VOSK, CaptionEngine.WHISPER])
def test_a_model_directory_that_is_wrong_is_refused_at_start_up(
    engine: CaptionEngine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The package is there (a stand-in): only the model directory is at fault.
    monkeypatch.setitem(sys.modules, "vosk", sys)
    monkeypatch.setitem(sys.modules, "faster_whisper", sys)
    with pytest.raises(CaptionsUnavailable, match="needs PARLEY_CAPTIONS_MODEL"):
        check(EngineSpec(engine))
    with pytest.raises(CaptionsUnavailable, match="is not a directory"):
        check(EngineSpec(engine, model_dir=tmp_path / "nowhere"))
    with pytest.raises(CaptionsUnavailable, match="does not hold"):
        check(EngineSpec(engine, model_dir=tmp_path))  # a directory, but no model in it
