"""Real WebRTC clients for tests: aiortc peers that sing a tone and listen for tones.

A `Voice` sends a pure tone at real-time pace; an `Ear` decodes what it receives and says, by
FFT over the last few hundred milliseconds, how clearly a frequency stands out of the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import time
from collections import deque
from typing import cast

import numpy as np
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame

from parley.media.aiortc_internals import (
    FrameAssembler,
    JitterFrame,
    RtpPacket,
    jitter_buffer,
    replace_jitter_buffer,
)
from tests.support.clients import Person

RATE = 48_000
FRAME = 960  # 20 ms
TIME_BASE = fractions.Fraction(1, RATE)

# A tone "is heard" at this level or louder, in dB relative to a full-scale sine (the voices
# sing at about -12 dBFS)...
HEARD_DBFS = -30.0
# ...and "is gone" below this: the codec leaves faint traces of everything, far quieter.
GONE_DBFS = -55.0
# How far a tone stands above the spectrum a quarter of its frequency away.
TONAL_MARGIN_DB = 20.0


def tone_level(pcm: np.ndarray, frequency: float) -> float:
    """The level of `frequency` in 16-bit samples, in dBFS (0 is a full-scale sine)."""
    window = np.hanning(len(pcm))
    spectrum = np.abs(np.fft.rfft(pcm * window))
    freqs = np.fft.rfftfreq(len(pcm), 1 / RATE)
    resolution = RATE / len(pcm)
    peak = spectrum[np.abs(freqs - frequency) <= max(15.0, resolution)].max(initial=0.0)
    # A sine of amplitude A peaks at A * sum(window) / 2 in the windowed spectrum.
    amplitude = 2 * peak / window.sum()
    return float(20 * np.log10(amplitude / 32767 + 1e-10))


def loudest_frequency(pcm: np.ndarray) -> float:
    """The tone heard most in `pcm` (48 kHz), to about a hertz.

    The power of 100 ms windows, half overlapping, summed (Welch's method) rather than one
    transform of the whole: audio carried through a stall (a tick skipped, a packet concealed)
    goes on with another phase, and one long transform of such pieces puts its peak several
    bins off (433.8 Hz read for a 440 Hz tone once, under load). Zero-padded to a second, so
    a 60 ms sliver is read as finely as a long stretch."""
    window = min(RATE // 10, len(pcm))
    padded = max(RATE, len(pcm))
    taper = np.hanning(window)
    power = np.zeros(padded // 2 + 1)
    for start in range(0, len(pcm) - window + 1, max(1, window // 2)):
        power += np.abs(np.fft.rfft(pcm[start : start + window] * taper, padded)) ** 2
    return float(np.fft.rfftfreq(padded, 1 / RATE)[power.argmax()])


def carries_tone(pcm: np.ndarray, frequency: float) -> bool:
    """Whether 20 ms of audio still carry a tone: its level above GONE_DBFS and standing out
    of its neighbourhood. A click (a packet lost on a busy machine, concealed) spreads energy
    over every frequency and is not the tone coming back."""
    level = tone_level(pcm, frequency)
    if level < GONE_DBFS:
        return False
    around = max(tone_level(pcm, frequency * 0.75), tone_level(pcm, frequency * 1.25))
    return level - around >= TONAL_MARGIN_DB


class PacedMicrophone(MediaStreamTrack):
    """A microphone paced like a real one: a 20 ms frame of 48 kHz mono every 20 ms, stamped
    with its RTP time. A subclass says what each frame holds (`samples`)."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self.frames_sent = 0
        self._start: float | None = None

    def samples(self, index: int) -> np.ndarray:
        """The `index`th frame's FRAME samples (int16), called just before it is handed on."""
        raise NotImplementedError

    async def recv(self) -> AudioFrame:
        index = self.frames_sent
        if self._start is None:
            self._start = time.monotonic()
        else:
            delay = self._start + index * FRAME / RATE - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        pcm = self.samples(index)
        frame = AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = RATE
        frame.pts = index * FRAME
        frame.time_base = TIME_BASE
        self.frames_sent += 1
        return frame


class Voice(PacedMicrophone):
    """A microphone that sings one frequency."""

    def __init__(self, frequency: float, amplitude: float = 0.25) -> None:
        super().__init__()
        self.frequency = frequency
        self.amplitude = amplitude

    def samples(self, index: int) -> np.ndarray:
        t = (np.arange(FRAME) + index * FRAME) / RATE
        return (self.amplitude * 32767 * np.sin(2 * np.pi * self.frequency * t)).astype(np.int16)


class Ear:
    """Everything one received track carries, decoded, with the time each piece arrived."""

    def __init__(self, track: MediaStreamTrack, keep_seconds: float = 3.0) -> None:
        self.chunks: deque[tuple[float, np.ndarray]] = deque(maxlen=int(keep_seconds * 50) + 1)
        self.frames = 0
        # Whether each piece carries a frequency, worked out once: a test polling for silence
        # would otherwise run hundreds of FFTs a second, and on a busy machine its own lag
        # would be counted as the server's.
        self._verdicts: dict[tuple[int, float], tuple[np.ndarray, bool]] = {}
        self.task = asyncio.create_task(self._listen(track))

    async def _listen(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                assert isinstance(frame, AudioFrame)
                pcm = frame.to_ndarray().astype(np.float64).reshape(-1)
                channels = len(frame.layout.channels)
                mono = pcm.reshape(-1, channels).mean(axis=1) if channels > 1 else pcm
                self.chunks.append((time.monotonic(), mono))
                self.frames += 1

    def level(self, frequency: float, seconds: float = 0.2) -> float:
        """The level of `frequency` (dBFS: 0 is a full-scale sine) in the audio received in the
        last `seconds`."""
        since = time.monotonic() - seconds
        recent = [pcm for at, pcm in self.chunks if at >= since]
        return tone_level(np.concatenate(recent), frequency) if recent else -200.0

    def silent_since(self, frequency: float, moment: float) -> float | None:
        """Seconds from `moment` (a time.monotonic()) to the arrival of the first 20 ms of audio
        without `frequency` after which it never came back; None if it is still heard."""
        first_silent: float | None = None
        for at, pcm in self.chunks:
            if at < moment:
                continue
            if self._carries(pcm, frequency):
                first_silent = None
            elif first_silent is None:
                first_silent = at
        return None if first_silent is None else first_silent - moment

    def _carries(self, pcm: np.ndarray, frequency: float) -> bool:
        key = (id(pcm), frequency)
        known = self._verdicts.get(key)
        if known is not None and known[0] is pcm:
            return known[1]
        if len(self._verdicts) > 4 * (self.chunks.maxlen or 0):
            self._verdicts.clear()
        verdict = carries_tone(pcm, frequency)
        self._verdicts[key] = (pcm, verdict)
        return verdict

    def hears(self, frequency: float) -> bool:
        return self.level(frequency) >= HEARD_DBFS

    def silent_at(self, frequency: float) -> bool:
        return self.level(frequency) < GONE_DBFS

    async def until(self, condition: str, frequency: float, timeout: float = 5.0) -> float:
        """Wait until the ear `hears` (or is `silent_at`) the frequency; the seconds it took."""
        check = self.hears if condition == "hears" else self.silent_at
        start = time.monotonic()
        while not check(frequency):
            if time.monotonic() - start > timeout:
                raise AssertionError(
                    f"after {timeout}s the ear still does not satisfy {condition}({frequency}): "
                    f"level {self.level(frequency):.1f} dBFS, {self.frames} frames"
                )
            await asyncio.sleep(0.02)
        return time.monotonic() - start

    async def close(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


class RtpLog:
    """Every RTP packet a receiver takes in, after SRTP, in the order they came, on their way
    to the receiver's own jitter buffer and decoder (which still play them)."""

    def __init__(self, assembler: FrameAssembler) -> None:
        self.packets: list[RtpPacket] = []
        self._assembler = assembler

    def add(self, packet: RtpPacket) -> tuple[bool, JitterFrame | None]:
        self.packets.append(packet)
        return self._assembler.add(packet)


class MediaClient:
    """One person's WebRTC connection to a space: optionally sending a tone, always listening."""

    def __init__(self, person: Person, space_id: str) -> None:
        self.person = person
        self.space_id = space_id
        self.pc = RTCPeerConnection()
        self.ear: Ear | None = None
        self.received = asyncio.Event()
        self.answer: dict[str, object] = {}
        self.rtp: RtpLog | None = None

        @self.pc.on("track")
        def _track(track: MediaStreamTrack) -> None:
            # Before DTLS is up, so before the first packet: the log misses none.
            receiver = self.pc.getTransceivers()[0].receiver
            self.rtp = RtpLog(cast(FrameAssembler, jitter_buffer(receiver)))
            replace_jitter_buffer(receiver, self.rtp)
            self.ear = Ear(track)
            self.received.set()

    @classmethod
    async def connect(
        cls,
        person: Person,
        space_id: str,
        *,
        tone: float | None = None,
        track: MediaStreamTrack | None = None,
        expect: int = 200,
    ) -> MediaClient:
        """Offer send-and-receive with a tone (or `track`), or receive only; POST the offer;
        apply the answer."""
        client = cls(person, space_id)
        if tone is not None:
            track = Voice(tone)
        if track is None:
            client.pc.addTransceiver("audio", direction="recvonly")
        else:
            client.pc.addTrack(track)
        await client.pc.setLocalDescription(await client.pc.createOffer())
        offer = client.pc.localDescription
        r = await person.http.post(
            f"/spaces/{space_id}/media", json={"sdp": offer.sdp, "type": offer.type}
        )
        assert r.status_code == expect, r.text
        if expect != 200:
            await client.pc.close()
            return client
        client.answer = r.json()
        try:
            await client.pc.setRemoteDescription(
                RTCSessionDescription(sdp=r.json()["sdp"], type=r.json()["type"])
            )
            await asyncio.wait_for(client.received.wait(), 10)
            connected = asyncio.Event()
            client.pc.on("connectionstatechange", connected.set)
            while client.pc.connectionState != "connected":
                state = client.pc.connectionState
                assert state in ("new", "connecting"), state
                connected.clear()
                await asyncio.wait_for(connected.wait(), 10)
        except BaseException:
            await client.close()  # answered, never connected: nothing of it may linger
            raise
        return client

    @property
    def hearing(self) -> Ear:
        assert self.ear is not None, "no track received yet"
        return self.ear

    async def close(self) -> None:
        if self.ear is not None:
            await self.ear.close()
        await self.pc.close()
