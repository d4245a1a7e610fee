"""Captions: how well and how cheaply each pocketsphinx tuning recognizes speech.

Fifty fixed sentences, each spoken by two espeak-ng voices (en-us and en+f3), go through what a
worker process does with a phrase: 16 kHz mono s16, fed in 200 ms chunks as the tap sends them,
with the partial asked for after each chunk, then the final. For each tuning:
- WER: word error rate of the finals against the sentences (word-level edit distance);
- CPU per second of speech (process time), so the speakers one core sustains talking at once
  is its inverse;
- caption delay after the end of a phrase: the gate's hangover (0.5 s, the quiet that ends a
  phrase) + the last chunk's wait (up to 0.2 s, counted whole) + the time to decode that last
  chunk and the end of the phrase, measured; p50 and p99 over the 100 phrases.

Run pinned to one core: `taskset -c 1 python -m bench.captions [tuning ...]`.
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np

from parley.media.captions.engines import TUNINGS, SphinxTuning
from tests.support.speech import say

HANGOVER_S = 0.5
CHUNK_S = 0.2
CHUNK = int(16_000 * CHUNK_S)
VOICES = ("en-us", "en+f3")

SENTENCES = (
    "the weather is nice today",
    "please open the door",
    "good morning everyone",
    "thank you very much",
    "we talk about music and movies",
    "the meeting starts at nine",
    "i like green apples",
    "the children are playing outside",
    "my name is alice",
    "where is the train station",
    "the coffee is too hot",
    "she reads a book every night",
    "we will start in five minutes",
    "can you hear me now",
    "the music was very loud",
    "he works in a big office",
    "turn left at the next street",
    "the dog is sleeping on the floor",
    "i need to buy some bread",
    "the show starts at eight",
    "thanks for joining us today",
    "let us talk about the news",
    "the water is cold",
    "my phone is on the table",
    "we have a new guest today",
    "the sun is shining",
    "please speak a little louder",
    "i will call you tomorrow",
    "the game was very exciting",
    "our next speaker is here",
    "the city is very busy",
    "i love this song",
    "the room is too small",
    "we need more time",
    "the price is too high",
    "she plays the piano",
    "the road is closed today",
    "what do you think about it",
    "the garden has many flowers",
    "he came home late",
    "this is a great question",
    "the food was really good",
    "i agree with you",
    "let me answer that question",
    "the team won the game",
    "we are going to the park",
    "the window is open",
    "the bus was late again",
    "i have two brothers",
    "see you next week",
)


def wer_counts(reference: str, hypothesis: str) -> tuple[int, int]:
    """(word edits, reference words)."""
    ref, hyp = reference.split(), hypothesis.split()
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        previous, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (r != h))
    return row[len(hyp)], len(ref)


def run(tuning: SphinxTuning, audio: list[tuple[str, np.ndarray]]) -> dict[str, float]:
    from pocketsphinx import Decoder

    decoder = Decoder(loglevel="FATAL", samprate=16_000, **tuning.options())
    edits = words = 0
    cpu = speech = 0.0
    delays: list[float] = []
    for sentence, pcm in audio:
        started = time.process_time()
        decoder.start_utt()
        chunks = [pcm[i : i + CHUNK] for i in range(0, len(pcm), CHUNK)]
        for chunk in chunks[:-1]:
            decoder.process_raw(chunk.tobytes())
            decoder.hyp()
        last = time.perf_counter()
        decoder.process_raw(chunks[-1].tobytes())
        decoder.end_utt()
        hyp = decoder.hyp()
        delays.append(HANGOVER_S + CHUNK_S + time.perf_counter() - last)
        cpu += time.process_time() - started
        speech += len(pcm) / 16_000
        e, n = wer_counts(sentence, hyp.hypstr if hyp is not None else "")
        edits, words = edits + e, words + n
    delays.sort()
    return {
        "wer": edits / words,
        "cpu_per_speech_s": cpu / speech,
        "delay_p50": statistics.median(delays),
        "delay_p99": delays[min(len(delays) - 1, round(0.99 * (len(delays) - 1)))],
    }


def main(names: list[str]) -> None:
    # Phrases as the gate hands them over: 300 ms of pre-roll quiet, the words, the hangover.
    quiet = np.zeros(4800, dtype=np.int16)
    audio = [
        (s, np.concatenate([quiet, say(s, voice, rate=16_000), quiet, quiet[:3200]]))
        for voice in VOICES
        for s in SENTENCES
    ]
    print(f"{len(audio)} phrases, {sum(len(p) for _, p in audio) / 16_000:.0f} s of audio")
    print("| tuning | WER | CPU s per s of speech | speakers per core | delay p50 | delay p99 |")
    print("|---|---|---|---|---|---|")
    for name in names or list(TUNINGS):
        r = run(TUNINGS[name], audio)
        print(
            f"| {name} | {r['wer']:.0%} | {r['cpu_per_speech_s']:.2f} | "
            f"{1 / r['cpu_per_speech_s']:.1f} | {r['delay_p50']:.2f} s | {r['delay_p99']:.2f} s |",
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv[1:])
