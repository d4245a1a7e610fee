"""What a room reports back: who is speaking, and whose audio connection died or is back."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from parley.services.presence import PresenceService

# DESIGN.md: active-speaker updates at most 5 times a second.
ACTIVE_SPEAKERS_INTERVAL = 0.2


@dataclass(eq=False)
class RoomReports:
    presence: PresenceService
    # Runs background work for the media service, which keeps and logs it.
    spawn: Callable[[Coroutine[Any, Any, None]], None]
    _pending_speakers: dict[str, list[str]] = field(default_factory=dict, init=False)
    _speaker_writers: set[str] = field(default_factory=set, init=False)
    _audio_in_order: asyncio.Lock = field(default_factory=asyncio.Lock, init=False)

    def active_speakers(self, space_id: str, account_ids: list[str]) -> None:
        # Only the latest report matters; one writer per space sends it, then waits, so the
        # events are at least ACTIVE_SPEAKERS_INTERVAL apart however the mixer's reports and
        # the database's commits happen to bunch up.
        self._pending_speakers[space_id] = account_ids
        if space_id not in self._speaker_writers:
            self._speaker_writers.add(space_id)
            self.spawn(self._write_active_speakers(space_id))

    def speaker_audio(self, space_id: str, account_id: str, connected: bool) -> None:
        # Rare (a stage member's connection kept, or dying), so each is told, in the order the
        # room saw them: the lock hands itself on first come, first served, and tasks start in
        # the order they were made.
        self.spawn(self._write_speaker_audio(space_id, account_id, connected))

    async def _write_speaker_audio(self, space_id: str, account_id: str, connected: bool) -> None:
        async with self._audio_in_order:
            await self.presence.report_speaker_audio(space_id, account_id, connected)

    async def _write_active_speakers(self, space_id: str) -> None:
        try:
            while (account_ids := self._pending_speakers.pop(space_id, None)) is not None:
                await self.presence.report_active_speakers(space_id, account_ids)
                await asyncio.sleep(ACTIVE_SPEAKERS_INTERVAL)
        finally:
            self._speaker_writers.discard(space_id)
