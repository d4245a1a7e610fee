"""The rule behind calling off a scheduled space nobody started (core.spaces.rules.lapse): the
sweep finds the candidates, and the rule decides again under the space's lock, so a host who
went live, or moved the space, after the sweep looked keeps their space."""

from __future__ import annotations

from datetime import timedelta

from parley.core.spaces import rules
from parley.core.spaces.events import SpaceCancelled
from parley.core.spaces.model import SpaceStatus
from tests.support.space_states import HOST, T0, scheduled_space

WINDOW = timedelta(hours=12)


def test_a_space_is_called_off_only_once_its_window_to_start_has_run_out() -> None:
    state = scheduled_space()
    state.space.scheduled_start = T0
    assert rules.lapse(state, T0 + WINDOW - timedelta(seconds=1), WINDOW) == []
    assert state.space.state is SpaceStatus.SCHEDULED
    (event,) = rules.lapse(state, T0 + WINDOW, WINDOW)
    assert event.data == SpaceCancelled(rules.NOT_STARTED)
    assert (state.space.state, state.space.end_reason) == (SpaceStatus.CANCELLED, "not_started")
    assert rules.lapse(state, T0 + 2 * WINDOW, WINDOW) == []  # once


def test_a_space_started_or_moved_since_the_sweep_looked_is_left_alone() -> None:
    started = scheduled_space()
    started.space.scheduled_start = T0
    rules.start(started, HOST, "host", T0 + WINDOW / 2)
    assert rules.lapse(started, T0 + WINDOW, WINDOW) == []
    assert started.space.state is SpaceStatus.LIVE

    moved = scheduled_space()
    moved.space.scheduled_start = T0 + timedelta(days=1)
    assert rules.lapse(moved, T0 + WINDOW, WINDOW) == []
    assert moved.space.state is SpaceStatus.SCHEDULED
