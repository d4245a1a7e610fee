"""One Parley node: its settings, connections, services and background tasks, wired together."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from prometheus_client import CollectorRegistry

from parley.bus import Bus, make_bus, messages
from parley.bus.messages import (
    ACCOUNTS_CHANNEL,
    NODES_CHANNEL,
    DrainNode,
)
from parley.config import Settings
from parley.core.ratelimit import limit_table
from parley.core.sessions import SessionPolicy
from parley.media import aiortc_internals
from parley.media.opus import require_opus
from parley.media.recording_store import DurableSegmentStore
from parley.media.segment_store import FileSegmentStore
from parley.media.sendpath import direct_send_available
from parley.services.accounts import AccountService
from parley.services.background import cancel_and_wait
from parley.services.bots import BotService
from parley.services.captions import CaptionService
from parley.services.clips import ClipService
from parley.services.common import NodeClock, new_id
from parley.services.connection_counts import ConnectionCounts
from parley.services.deactivation import Deactivation
from parley.services.decisions import SpaceDecisions
from parley.services.departures import Departures
from parley.services.enforcement import Enforcement
from parley.services.fanout import FanoutHub
from parley.services.features import FeatureSwitches
from parley.services.held_posts import HeldPosts
from parley.services.hls import HlsService
from parley.services.homing import Homing
from parley.services.joins import JoinService
from parley.services.limits import LimitService
from parley.services.link_checks import LinkChecks
from parley.services.link_rules import LinkRules
from parley.services.location import LocationPolicies
from parley.services.media import MediaService
from parley.services.metrics import NodeCollector
from parley.services.moderation import ModerationService
from parley.services.notifications import NotificationService
from parley.services.passwords import Passwords
from parley.services.pins import PinService
from parley.services.post_moderation import PostModeration
from parley.services.posts import PostService
from parley.services.presence import PresenceService
from parley.services.publisher import EventPublisher
from parley.services.ratelimit import MemoryStore, RateLimiter, RedisStore
from parley.services.recorder import Recorder
from parley.services.recording_moderation import RecordingModeration
from parley.services.recordings import RecordingService
from parley.services.redirector import Redirector
from parley.services.reports import ReportService
from parley.services.schedules import LapsedSchedules
from parley.services.sharing import SharingService
from parley.services.space_moderation import SpaceModeration
from parley.services.spaces import SpaceService
from parley.services.tokens import TokenService
from parley.services.transcripts import TranscriptService
from parley.services.transparency import TransparencyReport
from parley.store.connections import Holder
from parley.store.db import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Readiness:
    """Whether each part of the node a request needs answers; the node is ready when all do."""

    database: bool
    bus: bool
    media: bool

    @property
    def ready(self) -> bool:
        return self.database and self.bus and self.media


class Node:
    """Everything one node runs, built in dependency order. A newcomer's map of the services:

    - links: `link_rules` (the rules, the same on every node), `link_checks` (a URL's verdict,
      following shortener chains; the guard on user content), `redirector` (`/l/{id}`);
    - accounts and sessions: `accounts`, with `passwords` and the rate `limits`; `posts` (posts
      and timelines); `bots` (accounts people own) and `tokens` (API tokens with scopes);
      `deactivation` (a person deleting their account); `notifications` (what an account is
      told, and how far it has read);
    - spaces: every decision about a space runs in `decisions` (one transaction); `spaces` (the
      host's controls, what participants do, the event log), `pins` (posts pinned above the
      stage), `presence` (connections, hosts away, dropped participants), `lapsed_schedules`
      (scheduled spaces never started, called off), `features` (the admin's switches);
    - live delivery: `hub` (event sockets), `media` (WebRTC and the mixer, its listener cap),
      `hls` (live HLS), `sharing` (what anyone may see without an account: share pages, HLS),
      `homing` (which node mixes each space, under a lease; the others relay its program);
      `captions` (live captions from each mixer, and the transcripts they make);
    - the program kept: `recorder` (live HLS segments of recorded spaces, made durable; crash
      recovery and retention), `recordings` (replay, trim, deletion), `clips`, `transcripts`
      (a recording's transcript, its subtitles rendition, moderators' reading and search);
    - trust and safety: `moderation` (suspensions, notices, appeals, audit), `account_limits`
      (an account limited to listening and reading), `post_moderation` (a moderator removing
      one post), `recording_moderation` (one recording), `space_moderation` (one space ended
      and taken down), `departures` (suspended and deactivated accounts out of every space,
      on every node), `enforcement` (this node's own sockets and media when an account is
      suspended, its sessions end, or a limit is set or lifted), `reports`,
      `location` (the location policy posts' places obey), `held_posts` (posts waiting for it,
      published by the sweep).
    """

    def __init__(self, settings: Settings, clock: NodeClock | None = None) -> None:
        # One id for this process's life, the same for every service: presence counts the
        # node's sockets under it, homing advertises it.
        self.node_id = settings.node_id or new_id()
        settings = settings.model_copy(update={"node_id": self.node_id})
        self.settings = settings
        # The one clock every service reads; tests move it instead of waiting.
        self.clock = clock or NodeClock()
        now = self.clock.now
        self.db = Database(settings.effective_database_url)
        self.bus: Bus = make_bus(settings.redis_url)
        self.passwords = Passwords(
            time_cost=settings.argon2_time_cost,
            memory_kib=settings.argon2_memory_kib,
            concurrency=settings.argon2_concurrency,
            queue=settings.argon2_queue,
            refusal_delay=settings.rate_limit_refusal_delay_seconds,
        )
        self.limits = rate_limiter(settings, self.clock)

        # Links first: their guard and renderer serve posts, profiles and space titles.
        self.link_rules = LinkRules(self.db, self.bus, clock=now)
        self.link_checks = LinkChecks(self.link_rules.rules, settings)
        self.redirector = Redirector(self.db, self.link_checks, settings, clock=now)

        self.accounts = AccountService(
            self.db,
            self.passwords,
            guard_links=self.link_checks.guard,
            bus=self.bus,
            limits=self.limits,
            sessions=session_policy(settings),
            clock=now,
            instance_name=settings.instance_name,
            session_cache_seconds=settings.session_cache_seconds,
        )
        self.tokens = TokenService(self.accounts)
        self.notifications = NotificationService(self.db)

        self.decisions = SpaceDecisions(self.db, EventPublisher(self.bus), settings, clock=now)
        self.features = FeatureSwitches(self.db, self.decisions, clock=now)
        self.connection_counts = ConnectionCounts(
            self.db, Holder(self.node_id, settings.worker_index)
        )
        self.presence = PresenceService(
            self.db, self.decisions, settings, self.connection_counts, clock=now
        )
        self.lapsed_schedules = LapsedSchedules(self.db, self.decisions, settings, clock=now)
        self.joins = JoinService(
            self.db, self.decisions, self.features, settings, self.connection_counts, clock=now
        )
        self.spaces = SpaceService(
            self.db,
            self.decisions,
            self.features,
            settings,
            guard_links=self.link_checks.guard,
            render_links=self.redirector.render,
            socket_follows=self.joins.expect_socket,
            clock=now,
        )

        self.pins = PinService(
            self.db, self.decisions, guard_links=self.link_checks.guard, clock=now
        )

        self.hub = FanoutHub(
            self.bus,
            self.spaces,
            settings.client_queue_size,
            max_sockets_per_account=settings.max_sockets_per_account,
            workers=settings.workers,
            exact_audience_sockets=settings.exact_audience_sockets,
        )
        live_files = FileSegmentStore(settings.data_dir / "hls")
        self.sharing = SharingService(
            self.db, self.spaces, cache_seconds=settings.exposure_cache_seconds, clock=now
        )
        self.hls = HlsService(self.spaces, self.sharing, live_files, settings, clock=now)
        self.posts = PostService(
            self.db,
            self.accounts,
            self.pins,
            self.sharing,
            guard_links=self.link_checks.guard,
            clock=now,
        )
        # Accounts that may no longer be anywhere (suspended, deactivated) leave every space.
        self.departures = Departures(
            self.db,
            self.bus,
            self.decisions,
            self.sharing,
            self.accounts.session_cache,
            clock=now,
        )
        self.bots = BotService(
            self.db,
            departures=self.departures,
            guard_links=self.link_checks.guard,
            instance_name=settings.instance_name,
            clock=now,
        )
        self.deactivation = Deactivation(self.db, self.accounts, self.departures, clock=now)
        # Not under hls/: a node clears that at start-up, and recordings outlive a restart.
        self.recorder = Recorder(
            self.db,
            live_files,
            DurableSegmentStore(settings.effective_recordings_dir),
            retention_days=settings.recording_retention_days,
            clock=now,
            node_id=self.node_id,
        )
        self.hls.segment_listeners.append(self.recorder.segment_stored)
        self.hls.ended_listeners.append(self.recorder.program_ended)
        self.recordings = RecordingService(self.db, self.spaces, self.recorder, clock=now)
        self.recording_moderation = RecordingModeration(self.db, clock=now)
        self.space_moderation = SpaceModeration(self.decisions, self.sharing, clock=now)
        self.clips = ClipService(self.db, self.recordings, clock=now)
        self.transcripts = TranscriptService(self.db, self.recordings, clock=now)
        self.homing = Homing(self.db, settings, clock=self.clock)
        self.captions = CaptionService(
            self.db, self.bus, self.spaces, self.decisions, settings, clock=now
        )
        self.media = MediaService(
            self.bus,
            self.spaces,
            self.presence,
            settings,
            clock=now,
            homing=self.homing,
            hls=self.hls,
            captions=self.captions,
        )

        self.account_limits = LimitService(
            self.db, self.bus, self.decisions, self.accounts.session_cache, clock=now
        )
        self.enforcement = Enforcement(self.db, self.accounts, self.hub, self.media, self.sharing)
        self.moderation = ModerationService(
            self.db, self.departures, self.account_limits, clock=now
        )
        self.reports = ReportService(self.db, clock=now)
        self.transparency = TransparencyReport(self.db, clock=now)
        self.post_moderation = PostModeration(self.db, self.pins, clock=now)
        self.location = LocationPolicies(self.db, clock=now)
        self.held_posts = HeldPosts(self.db, clock=now)

        # Per node, not prometheus_client's global registry: tests run several nodes at once.
        self.metrics = CollectorRegistry()
        self.metrics.register(NodeCollector(self))
        self._sweeper: asyncio.Task[None] | None = None
        # Sweeps finished since start: what a test waits on to know the node has looked at a
        # moved clock (that something did not happen is only known after a sweep).
        self.sweeps_done = 0
        self._enforcer: asyncio.Task[None] | None = None
        # What drains this node when `parley admin drain` names it: the process's own SIGTERM
        # path (api/app.py), which a Node alone cannot take.
        self.on_drain: Callable[[], None] = lambda: log.warning("asked to drain; cannot here")
        self._orders: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await aiortc_internals.self_check()  # refuse to start rather than fail mid-call
        require_opus()  # likewise: every live space encodes and decodes with it
        direct_send_available()  # or say now that the program goes out the slow way
        self.captions.start()  # so does a captions engine that cannot run here
        await self.db.migrate()
        await self.bus.start()
        ready = asyncio.Event()
        # The sweep catches up on orders missed while the subscription was down, from the database.
        self._enforcer = asyncio.create_task(
            messages.follow(
                self.bus, ACCOUNTS_CHANNEL, ready, self.enforcement.obey, what="account orders"
            ),
            name="enforcer",
        )
        await ready.wait()
        await self.link_rules.start()
        await self.account_limits.start()
        await self.hls.start()
        # Here, not for every Node: a command-line run's decisions end spaces that a serving
        # node mixes, and only that node's live HLS may say the last segment is made.
        self.decisions.ended_listeners.append(self.hls.space_ended)
        await self.recorder.start()
        # Connections this worker counted in a previous life (killed, then started again with
        # the same PARLEY_NODE_ID, or by its parent under the same index): none of them is open
        # now. (Under a new id, the previous life's are taken back once it has been silent two
        # leases.)
        await self.connection_counts.release_previous_life(self.clock.now())
        await self.homing.start()
        self._orders = asyncio.create_task(
            messages.follow(self.bus, NODES_CHANNEL, asyncio.Event(), self._obey, what="orders"),
            name="node-orders",
        )
        self._sweeper = asyncio.create_task(self._sweep_forever(), name="sweeper")

    async def stop(self) -> None:
        for task in (self._sweeper, self._enforcer, self._orders):
            await cancel_and_wait(task)
        await self.link_rules.stop()
        await self.link_checks.close()
        await self.media.close()
        await self.homing.stop()
        await self.captions.stop()
        await self.hls.stop()
        await self.recorder.stop()
        await self.joins.close()
        await self.accounts.close()
        await self.hub.close()
        await self.bus.close()
        await self.limits.close()
        self.passwords.close()
        await self.db.close()

    def drain_begins(self) -> None:
        """The process was told to stop (api/server.py): a media connection answered from now
        on would close with the node in a moment, so offers are refused (503), to be made
        again elsewhere. From a signal handler: it only sets a flag."""
        self.media.draining = True

    async def ready(self) -> Readiness:
        return Readiness(
            database=await self.db.ping(), bus=await self.bus.ping(), media=self.media.ready()
        )

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.sweep_interval_seconds)
            try:
                await self.sweep()
                self.sweeps_done += 1
            except Exception:
                log.exception("sweep failed; trying again next interval")

    async def sweep(self) -> None:
        """One pass of what the node checks every `sweep_interval_seconds` (a test with the
        interval set long runs the one it needs)."""
        await self.enforcement.sweep()
        await self.joins.hand_back_tickets()
        if self.homing.time_to_look_for_gone_nodes():
            # This node's own first: back from a pause, it may have been taken for gone.
            await self.connection_counts.check(before_recount=self.homing.advertise)
            await self.presence.release_gone_nodes(self.homing.gone_before())
        await self.presence.sweep()
        await self.lapsed_schedules.sweep()
        await self.moderation.sweep()
        await self.departures.sweep()
        await self.enforcement.account_changed(await self.account_limits.sweep())
        await self.held_posts.publish_due()
        await self.link_rules.reconcile()
        await self.hub.catch_up()
        await self.media.catch_up()
        await self.hls.sweep()
        await self.recorder.sweep()

    async def _obey(self, order: messages.Message | None) -> None:
        """Orders to this node by its id (`parley admin drain NODE`), from any machine."""
        match order:
            case DrainNode(node_id) if node_id == self.homing.node_id:
                log.warning("node %s: draining, as ordered", node_id)
                self.on_drain()


def session_policy(settings: Settings) -> SessionPolicy:
    return SessionPolicy(
        idle=timedelta(days=settings.session_idle_days),
        lifetime=timedelta(days=settings.session_lifetime_days),
        appeal_lifetime=timedelta(minutes=settings.appeal_session_minutes),
        touch_every=timedelta(seconds=settings.session_touch_seconds),
    )


def rate_limiter(settings: Settings, clock: NodeClock) -> RateLimiter:
    """In Redis when the node has one (every node then shares each key), else in memory."""
    store = (
        RedisStore(settings.redis_url, settings.rate_limit_key_prefix)
        if settings.redis_url
        else MemoryStore()
    )
    return RateLimiter(
        limit_table(settings.rate_limit_overrides),
        store,
        enabled=settings.rate_limits,
        refusal_delay=settings.rate_limit_refusal_delay_seconds,
        clock=clock.wall,
    )
