"""Live captions and transcripts: a caption tap on each mixer of this node, one pool of recognizer
processes for all of them, and what becomes of what they hear.

A partial caption goes straight to the space's channel, unnumbered: the sockets pass it on and
nothing keeps it. A final caption is decided like any change to a space, so it is numbered in the
space's log (a socket that resumes with `since=` gets it) and stored in the space's transcript
in the same transaction. With captions off nothing here runs: no process, no tap, no CPU.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import KW_ONLY, dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection

from parley.bus.base import Bus
from parley.bus.messages import LiveCaption, publish
from parley.config import Settings
from parley.core.captions import (
    Caption,
    CaptionEngine,
    TranscriptLine,
    vocabulary,
)
from parley.core.errors import NotFound
from parley.core.moderation import require_moderator
from parley.core.spaces import stage
from parley.core.spaces.events import Event
from parley.core.spaces.model import SpaceState
from parley.media.captions.engines import TUNINGS, CaptionsUnavailable, EngineSpec, check
from parley.media.captions.tap import CaptionTap
from parley.media.captions.workers import PoolStats, RecognizerPool
from parley.media.mixer import Mixer
from parley.services.accounts import Caller
from parley.services.background import BackgroundWork
from parley.services.common import Clock
from parley.services.decisions import SpaceDecisions
from parley.services.spaces import SpaceService
from parley.services.views import SpaceView
from parley.store.db import Database
from parley.store.recordings import RecordingStore
from parley.store.transcripts import TranscriptStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CaptionFigures:
    """What /metrics shows of captions on this node."""

    taps: int
    workers_alive: int
    backlog_seconds: float
    pool: PoolStats


def engine_spec(settings: Settings) -> EngineSpec | None:
    """The engine the settings ask for, checked (None when captions are off). Raises
    `CaptionsUnavailable` with what to change when it cannot run here."""
    if settings.captions is CaptionEngine.OFF:
        return None
    tuning = TUNINGS.get(settings.captions_tuning)
    if tuning is None:
        raise CaptionsUnavailable(
            f"PARLEY_CAPTIONS_TUNING={settings.captions_tuning!r} is not a tuning; "
            f"pick one of {', '.join(sorted(TUNINGS))}"
        )
    spec = EngineSpec(settings.captions, settings.captions_model, tuning)
    check(spec)
    return spec


@dataclass(eq=False)
class CaptionService:
    db: Database
    bus: Bus
    spaces: SpaceService
    decisions: SpaceDecisions
    settings: Settings
    _: KW_ONLY
    clock: Clock
    pool: RecognizerPool | None = field(default=None, init=False)
    taps: dict[str, tuple[Mixer, CaptionTap]] = field(default_factory=dict, init=False)
    _background: BackgroundWork = field(
        default_factory=lambda: BackgroundWork(log, "captions background work", (NotFound,)),
        init=False,
    )
    # Finals waiting for their space's writer.
    _finals: dict[str, list[Caption]] = field(default_factory=dict, init=False)
    _writers: set[str] = field(default_factory=set, init=False)  # spaces whose writer is running

    def start(self) -> None:
        """Check the engine (the node refuses to start on a wrong setting); the worker
        processes start with the first mixer that needs them."""
        spec = engine_spec(self.settings)
        if spec is not None:
            self.pool = RecognizerPool(
                spec,
                workers=self.settings.captions_workers,
                max_backlog_s=self.settings.captions_max_backlog_seconds,
            )

    async def stop(self) -> None:
        for space_id in list(self.taps):
            mixer, _ = self.taps[space_id]
            self.mixer_stopped(space_id, mixer)
        self._background.cancel()
        if self.pool is not None:
            await self.pool.close()

    @property
    def live(self) -> bool:
        """Whether this node makes live captions: an engine is set (and passed its check)."""
        return self.pool is not None

    def figures(self) -> CaptionFigures | None:
        if self.pool is None:
            return None
        pool = self.pool
        return CaptionFigures(len(self.taps), pool.alive, pool.backlog_seconds, pool.stats)

    # --- mixers on this node -------------------------------------------------------------------

    def mixer_started(self, space_id: str, mixer: Mixer) -> None:
        if self.pool is not None:
            self._background.spawn(self._attach(space_id, mixer))

    def mixer_stopped(self, space_id: str, mixer: Mixer) -> None:
        entry = self.taps.get(space_id)
        if entry is None or entry[0] is not mixer:
            return
        del self.taps[space_id]
        mixer.remove_voice_sink(entry[1])
        entry[1].close()

    async def _attach(self, space_id: str, mixer: Mixer) -> None:
        assert self.pool is not None
        view = await self.spaces.view(space_id)
        started = view.space.started_at
        if started is None or mixer.stopped:
            return
        # The loop's clock at the space's start: caption times count from there.
        loop = asyncio.get_running_loop()
        origin = loop.time() - (self.clock() - started).total_seconds()
        tap = CaptionTap(
            self.pool,
            lambda said: self._heard(space_id, said),
            origin=origin,
            name=space_id,
            vocabulary=self._vocabulary(view),
            on_new_speaker=lambda: self._background.spawn(self._refresh_vocabulary(space_id)),
        )
        self.taps[space_id] = (mixer, tap)
        mixer.add_voice_sink(tap)

    @staticmethod
    def _vocabulary(view: SpaceView) -> tuple[str, ...]:
        names = [p.handle.replace("_", " ") for p in view.stage]
        if view.host is not None:
            names.append(view.host.display_name)
        return vocabulary(view.space.title, view.space.topics, names)

    async def _refresh_vocabulary(self, space_id: str) -> None:
        entry = self.taps.get(space_id)
        if entry is not None:
            entry[1].vocabulary = self._vocabulary(await self.spaces.view(space_id))

    def _heard(self, space_id: str, said: Caption) -> None:
        if not said.final:
            self._background.spawn(publish(self.bus, LiveCaption(space_id, said)))
            return
        # One writer per space, taking every final caption waiting at once: the space's other
        # decisions (a mute, a suspension's removal) then wait behind at most one transaction
        # of captions, however fast the recognizers finish phrases.
        self._finals.setdefault(space_id, []).append(said)
        if space_id not in self._writers:
            self._writers.add(space_id)
            self._background.spawn(self._write_finals(space_id))

    async def _write_finals(self, space_id: str) -> None:
        try:
            while finals := self._finals.pop(space_id, None):
                await self.keep(space_id, *finals)
        finally:
            self._writers.discard(space_id)

    async def keep(self, space_id: str, *finals: Caption) -> None:
        """Final captions: numbered in the space's log and kept in its transcript, in one
        transaction."""

        async def decide(state: SpaceState, conn: AsyncConnection) -> list[Event]:
            events = []
            for said in finals:
                for event in stage.caption(state, said, self.clock()):
                    await TranscriptStore(conn).add(space_id, event.seq, said)
                    events.append(event)
            return events

        await self.decisions.decide(space_id, [], decide)

    # --- transcripts ---------------------------------------------------------------------------

    async def transcript(self, caller: Caller, space_id: str) -> list[TranscriptLine]:
        """The space's final captions, for whoever may follow it (not removed from it, not
        blocked by its host), as HLS is."""
        await self.spaces.stage(space_id)  # 404 for no such space
        await self.spaces.follower(space_id, caller.account.id)
        async with self.db.read() as conn:
            # A recorded space's words are hidden with its recording (its host suspended or gone),
            # not only on the recording's own routes.
            recording = await RecordingStore(conn).get(space_id)
            if recording is not None and await RecordingStore(conn).host_withdrawn(recording):
                raise NotFound("recording_hidden", "This recording is not available")
            return await TranscriptStore(conn).lines(space_id)

    async def around(
        self, caller: Caller, space_id: str, at: float, seconds: float
    ) -> list[TranscriptLine]:
        """For moderators: the lines within `seconds` either side of `at` (seconds from the
        space's start), what a report on the space at that moment is about."""
        require_moderator(caller)
        await self.spaces.stage(space_id)
        async with self.db.read() as conn:
            store = TranscriptStore(conn)
            return await store.lines(space_id, after=at - seconds, before=at + seconds)
