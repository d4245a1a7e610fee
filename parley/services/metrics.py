"""What one node is doing, for Prometheus: sockets, media rooms and peers, spaces mixed here and
programs relayed between nodes, the mixers' own
figures (ticks, skipped ticks, program encodes, the audio delay they add), live HLS, recording
and captions, and what the rate limits and the argon2 gate refused. Read at scrape time
from the live objects, so nothing on a hot path counts anything extra."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from parley.media.mixer_stats import ADDED_LATENCY_BUCKETS, MixerStats

if TYPE_CHECKING:
    from parley.services.node import Node
    from parley.services.watched_room import WatchedRoom


class NodeCollector(Collector):
    def __init__(self, node: Node) -> None:
        self.node = node

    def collect(self) -> Iterator[Metric]:
        node = self.node
        feeds = node.hub.feeds.values()
        yield _gauge("parley_event_feeds", "Spaces with event sockets on this node", len(feeds))
        sockets = sum(len(f.clients) for f in feeds)
        yield _gauge("parley_event_sockets", "Open event WebSockets on this node", sockets)
        rooms = list(node.media.rooms.values())
        yield _gauge("parley_media_rooms", "Spaces with a mixer on this node", len(rooms))
        peers = sum(len(w.room.peers) for w in rooms)
        yield _gauge("parley_media_peers", "WebRTC connections on this node", peers)
        listeners = sum(len(w.room.fanout) for w in rooms)
        yield _gauge("parley_media_program_listeners", "Listeners fed the program", listeners)
        mixing = sum(w.room.mixing for w in rooms)
        yield _gauge("parley_media_homes", "Spaces mixed on this node (their home)", mixing)
        yield _gauge(
            "parley_relays_in",
            "Spaces whose program this node relays from their home",
            len(rooms) - mixing,
        )
        yield _gauge(
            "parley_relays_out",
            "Relays of programs mixed here to other nodes",
            sum(w.placement.relays for w in rooms),
        )
        yield from _mixers(rooms)
        # A flat line here is a stuck sweeper: no lapsed limit, presence or held post moves on.
        yield _counter("parley_sweeps", "Sweeps this node has run", node.sweeps_done)
        yield _counter(
            "parley_connections_recounted",
            "Times this worker found its connections' counts taken (the node taken for gone "
            "while alive) and wrote them again",
            node.connection_counts.recounts,
        )
        yield from _joins(node)
        yield from _hls(node)
        yield from _recording(node)
        yield from _captions(node)
        yield from _abuse_limits(node)


# Each mixer's counters, per space: the metric, what it counts, and the figure it reads.
_MIXER_COUNTERS: tuple[tuple[str, str, Callable[[MixerStats], int]], ...] = (
    ("parley_mixer_ticks", "Mixer ticks run", lambda s: s.ticks),
    (
        "parley_mixer_skipped_ticks",
        "Mixer ticks skipped (the loop ran late)",
        lambda s: s.skipped_ticks,
    ),
    ("parley_mixer_program_encodes", "Program encodes (one per tick)", lambda s: s.encodes),
    (
        "parley_mixer_phase_moves",
        "Times the tick's phase moved to follow when stage audio arrives",
        lambda s: s.phase_moves,
    ),
    (
        "parley_mixer_grace_waits",
        "Ticks held (6 ms at most) for a frame due just after them",
        lambda s: s.grace_waits,
    ),
    (
        "parley_mixer_grace_catches",
        "Held ticks whose awaited frames came in time to be mixed",
        lambda s: s.grace_catches,
    ),
    (
        "parley_mixer_concealed_ticks",
        "Ticks of a speaker's audio lost or late on the way, filled by the decoder's "
        "concealment instead of silence",
        lambda s: s.concealed_ticks,
    ),
    (
        "parley_mixer_listener_skipped_packets",
        "Program packets skipped by listeners that fell behind (heard as gaps by them)",
        lambda s: s.listener_lag,
    ),
    (
        "parley_mixer_mix_minus_drops",
        "Mix-minus frames dropped because a speaker's connection did not take them in time",
        lambda s: s.mix_minus_drops,
    ),
)


def _mixers(rooms: Sequence[WatchedRoom]) -> Iterator[Metric]:
    """Each mixer's own figures, per space: its ticks, the delay it adds, and the gaps it saw."""
    counters = [
        (CounterMetricFamily(name, documentation, labels=["space"]), figure)
        for name, documentation, figure in _MIXER_COUNTERS
    ]
    added = GaugeMetricFamily(
        "parley_mixer_added_latency_seconds",
        "Audio delay added by the mixer, a frame's arrival to the tick that sent it, over "
        "the last minute or so",
        labels=["space", "quantile"],
    )
    delay = HistogramMetricFamily(
        "parley_mixer_added_delay_seconds",
        "Audio delay added by the mixer since it started: a frame's arrival to the end of "
        "the tick that mixed it, one observation per source per tick",
        labels=["space"],
    )
    for watched in rooms:
        space = watched.room.space_id
        stats = watched.room.mixer.stats
        for family, figure in counters:
            family.add_metric([space], figure(stats))
        delay.add_metric([space], _buckets(stats.added_latency_counts), stats.added_latency_sum)
        recent = sorted(stats.added_latency)
        for quantile in (0.5, 0.99):
            if recent:
                at = min(len(recent) - 1, round(quantile * (len(recent) - 1)))
                added.add_metric([space, str(quantile)], recent[at])
    yield from (family for family, _ in counters)
    yield from (added, delay)


def _buckets(counts: list[int]) -> list[tuple[str, float]]:
    """Prometheus buckets: cumulative counts up to each bound, then +Inf (all of them)."""
    bounds = [*(str(b) for b in ADDED_LATENCY_BUCKETS), "+Inf"]
    cumulative, total = [], 0
    for bound, count in zip(bounds, counts, strict=True):
        total += count
        cumulative.append((bound, float(total)))
    return cumulative


def _joins(node: Node) -> Iterator[Metric]:
    joins = node.joins.batches
    yield _counter("parley_joins", "Joins decided on this node", joins.requests_run)
    yield _counter(
        "parley_join_transactions",
        "Transactions those joins took (joins queued behind one space's share the next)",
        joins.batches_run,
    )


def _hls(node: Node) -> Iterator[Metric]:
    stats = node.hls.stats()
    yield _gauge("parley_hls_streams", "Spaces with live HLS on this node", len(node.hls.streams))
    yield _counter("parley_hls_segments_written", "HLS segments stored", stats.segments_written)
    yield _counter(
        "parley_hls_segments_dropped",
        "HLS segments encoded but not stored (the storage failed)",
        stats.segments_dropped,
    )
    yield _counter(
        "parley_hls_ticks_dropped",
        "Program ticks the HLS writer had no room for (heard as silence)",
        stats.ticks_dropped,
    )
    yield _counter(
        "parley_hls_encode_seconds",
        "CPU time spent encoding and muxing HLS segments",
        stats.encode_seconds,
    )
    yield _counter(
        "parley_hls_write_seconds", "Time spent storing HLS segments", stats.write_seconds
    )
    yield _gauge(
        "parley_hls_held_requests",
        "HLS requests held until what they ask for exists (blocking reloads, hinted parts)",
        node.hls.held,
    )
    yield _counter(
        "parley_hls_held",
        "HLS requests that were held (blocking reloads, hinted parts)",
        node.hls.held_total,
    )
    cap = node.media.cap
    rooms = [w.room for w in node.media.rooms.values()]
    yield _gauge("parley_webrtc_listeners", "WebRTC listeners on this node", cap.listeners(rooms))
    if cap.cap is not None:
        yield _gauge("parley_webrtc_listener_cap", "PARLEY_WEBRTC_LISTENER_CAP", cap.cap)
    yield _counter(
        "parley_webrtc_listener_cap_refusals",
        "Listener offers refused at the cap (sent to HLS)",
        cap.refused,
    )


def _recording(node: Node) -> Iterator[Metric]:
    # Lost is a replay with a gap: what an operator pages on, with the log line saying which.
    recorder = node.recorder
    yield _counter(
        "parley_recording_segments_kept",
        "Segments of recorded spaces made durable and indexed",
        recorder.segments_recorded,
    )
    yield _counter(
        "parley_recording_segments_lost",
        "Segments of recorded spaces that could not be kept (queue full, storage failed, "
        "or came after their recording was made final)",
        recorder.segments_lost,
    )
    yield _gauge(
        "parley_recording_queued_segments",
        "Segments waiting to be made durable",
        recorder.queued,
    )


def _captions(node: Node) -> Iterator[Metric]:
    figures = node.captions.figures()
    if figures is None:
        return  # captions are off: nothing runs, nothing to show
    yield _gauge("parley_captions_spaces", "Spaces captioned on this node", figures.taps)
    yield _gauge(
        "parley_captions_workers_alive", "Recognizer processes running", figures.workers_alive
    )
    yield _gauge(
        "parley_captions_backlog_seconds",
        "Speech sent to the recognizers and not recognized yet",
        figures.backlog_seconds,
    )
    pool = figures.pool
    yield _counter("parley_captions_audio_seconds", "Speech recognized", pool.audio_seconds)
    yield _counter("parley_captions_cpu_seconds", "Recognizers' CPU time", pool.cpu_seconds)
    yield _counter("parley_captions_phrases", "Phrases recognized", pool.phrases)
    yield _counter(
        "parley_captions_dropped_phrases",
        "Phrases left uncaptioned: the recognizers were too far behind",
        pool.dropped_phrases,
    )
    yield _counter(
        "parley_captions_dropped_seconds",
        "Speech not recognized: the recognizers were too far behind",
        pool.dropped_seconds,
    )


def _abuse_limits(node: Node) -> Iterator[Metric]:
    refused = CounterMetricFamily(
        "parley_rate_limited", "Requests refused with 429, per limit", labels=["limit"]
    )
    for name, count in sorted(node.limits.refused.items()):
        refused.add_metric([name.value], count)
    yield refused
    yield _counter(
        "parley_rate_limit_fallbacks",
        "Limit checks made in this node's memory because Redis did not answer",
        node.limits.fallbacks,
    )
    yield _gauge(
        "parley_argon2_pending", "Password hashes running or queued", node.passwords.gate.pending
    )
    yield _counter(
        "parley_argon2_busy_refusals",
        "Sign-ins and sign-ups refused with 503 busy: the argon2 queue was full",
        node.passwords.gate.refused,
    )


def _counter(name: str, documentation: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, documentation, value=value)


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)
