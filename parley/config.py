"""Settings, read from `PARLEY_*` environment variables, with defaults that run one node."""

from __future__ import annotations

import json
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from parley.core.captions import CaptionEngine
from parley.core.ratelimit import limit_table


class IceServer(BaseModel):
    """A STUN or TURN server, in the shape of the browser's RTCIceServer."""

    urls: list[str]
    username: str | None = None
    credential: str | None = None

    @field_validator("urls", mode="before")
    @classmethod
    def _one_or_many(cls, urls: str | list[str]) -> list[str]:
        return [urls] if isinstance(urls, str) else urls


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PARLEY_", extra="ignore")

    data_dir: Path = Path("./data")
    # Unset: an SQLite file in the data dir. `postgresql://...` URLs get the asyncpg driver.
    database_url: str | None = None
    # Unset: the in-process bus (one node). Set it to run several nodes behind a load balancer.
    redis_url: str | None = None
    # Worker processes sharing the port (`parley serve --workers N`): on PostgreSQL and Redis
    # only. Each space's media lives in one of them (parley/workers.py says which and how).
    workers: int = Field(default=1, ge=1, le=64)
    # Which worker this process is (set by `serve` for each worker it starts).
    worker_index: int = Field(default=0, ge=0)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: str = "info"
    # The instance's name: handles that read as it speaking ("parley_support") are reserved.
    instance_name: str = Field(default="Parley", min_length=1, max_length=50)

    stage_size: int = Field(default=13, ge=2, le=100)
    host_grace_seconds: float = Field(default=60.0, ge=0)
    # A participant whose last connection (event socket or media) closed this long ago, and
    # who did not come back, leaves the space; the host gets `host_grace_seconds` instead.
    presence_timeout_seconds: float = Field(default=30.0, ge=0)
    # How long someone who joined (or started their space) is in the room before any
    # connection of theirs comes; with none by then they are away, as if it had closed.
    connect_wait_seconds: float = Field(default=10.0, gt=0)
    # A scheduled space its host has not started this long after its time is called off
    # (`not_started`): upcoming lists hold only what may still happen, and those who set a
    # reminder, and the host, are told.
    schedule_lapse_hours: float = Field(default=12.0, gt=0)
    # How often each node looks for hosts whose grace period ran out and absent participants.
    sweep_interval_seconds: float = Field(default=1.0, gt=0)

    # Events kept per space for `since=N` resumes; older cursors get a fresh snapshot.
    event_replay_limit: int = Field(default=1000, ge=1)
    # Messages queued for one WebSocket before that client is told to resync.
    client_queue_size: int = Field(default=256, ge=1)
    # A space with at most this many event sockets on a node: its audience hears each listener
    # come and go, as the stage does, so the list of listeners a client shows stays exact. Above
    # it listeners hear a rush as counts, which keeps a join's cost flat however many listen.
    exact_audience_sockets: int = Field(default=100, ge=0)

    # STUN/TURN servers for the server's peer connections and handed to clients with each answer,
    # as JSON: '[{"urls": "stun:stun.example.org:3478"}]'. Empty: host candidates only, which
    # is enough on one machine or a LAN. A TURN entry here has a static password that every
    # participant sees; prefer `turn_urls` and `turn_secret` (below) for short-lived ones.
    ice_servers: list[IceServer] = Field(default_factory=list)
    # A media connection that shows no sign of life (no RTCP, no ICE consent) this long is dropped.
    media_silence_seconds: float = Field(default=10.0, gt=0)

    # argon2id cost. The defaults follow RFC 9106's second recommendation; tests lower them.
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65536, ge=8)

    # Link shorteners whose redirect chains are followed (and every hop checked) before a link's
    # verdict is given; subdomains included. A comma-separated list or a JSON array.
    link_shorteners: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: [
            "bit.ly",
            "t.co",
            "tinyurl.com",
            "goo.gl",
            "ow.ly",
            "is.gd",
            "buff.ly",
            "rebrand.ly",
            "cutt.ly",
            "t.ly",
        ]
    )
    # At most this many redirects are followed, within this much time for the whole chain; a chain
    # that is longer or slower gets a warning, never a pass.
    link_max_hops: int = Field(default=5, ge=1, le=20)
    link_timeout_seconds: float = Field(default=3.0, gt=0, le=30)
    # Only for tests: let shortener chains reach private and loopback addresses (never in
    # production, where that would let anyone make the server call its own network).
    link_allow_private: bool = False

    # --- links: outbound checks and the redirector (issue 8) ---
    # Outbound fetches this node makes at once to follow shortener chains, for everyone's checks
    # together; a check that waits this long for a free one gets a warning (`busy`) instead.
    link_fetch_concurrency: int = Field(default=16, ge=1, le=1000)
    link_fetch_wait_seconds: float = Field(default=1.0, gt=0, le=30)
    # Links from accounts younger than this many days open on the warning page, whatever the
    # rules say (new accounts are where spam comes from). 0: no such warning.
    link_new_account_days: float = Field(default=3.0, ge=0, le=365)

    # Sessions and event sockets (issue 8). A session unused this long expires (sliding), and
    # none lives longer than the lifetime, however often used; the token a suspended account
    # gets for its notices and appeal is good for `appeal_session_minutes`.
    session_idle_days: float = Field(default=30.0, gt=0)
    session_lifetime_days: float = Field(default=90.0, gt=0)
    appeal_session_minutes: float = Field(default=60.0, gt=0)
    # "Last used" is written at most this often per session (a write per request would cost
    # more than the precision is worth).
    session_touch_seconds: float = Field(default=300.0, ge=0)
    # An event socket opened without a token in a header must send {"type": "auth", "token"}
    # within this time, or it is closed with 4401.
    socket_auth_seconds: float = Field(default=5.0, gt=0)
    # How long a node answers a bearer token from memory before reading its session again.
    # Sign-out, suspension and expiry reach the cache at once over the bus, and the sweep
    # re-checks what it holds every interval; 0 turns the cache off.
    session_cache_seconds: float = Field(default=30.0, ge=0)
    # Most event sockets one account may hold open on one node; the next is closed with 4429.
    max_sockets_per_account: int = Field(default=20, ge=1)

    # Media (issue 8): TURN with short-lived credentials (the TURN REST API scheme, coturn's
    # `use-auth-secret` and `static-auth-secret`). With both set, each participant of a space
    # gets a credential of its own for these TURN URLs (comma-separated or a JSON array, e.g.
    # turn:turn.example.org:3478?transport=udp), valid `turn_ttl_seconds`; so do the server's
    # own peer connections. Static TURN entries in `ice_servers` are handed to everyone as is.
    turn_urls: Annotated[list[str], NoDecode] = Field(default_factory=list)
    turn_secret: SecretStr | None = None
    turn_ttl_seconds: int = Field(default=6 * 3600, ge=60, le=7 * 24 * 3600)

    # Live HLS (issue 10): the program cut into segments of this length (AAC in MPEG-TS), the
    # live playlist listing the latest `hls_playlist_segments`, and an ended space's files kept
    # this long for players still fetching its last segments. Files go under data_dir/hls.
    hls_segment_seconds: float = Field(default=2.0, ge=1.0, le=10.0)
    hls_playlist_segments: int = Field(default=6, ge=3, le=100)
    hls_ended_keep_seconds: float = Field(default=60.0, ge=0)
    # LL-HLS: each segment also cut into parts of about this length (whole AAC frames, so
    # 0.512 s for 0.5), listed in the playlist with blocking reload. 0: no parts.
    hls_part_seconds: float = Field(default=0.5, ge=0, le=2.0)
    # How long a node answers "may this space be shown publicly?" from memory (every HLS
    # request and share page asks). A suspension of the host reaches it at once over the bus
    # (the sweep re-checks the hosts it holds every interval), a space ending here as its mixer
    # stops; a refusal is never kept. 0 turns it off.
    exposure_cache_seconds: float = Field(default=5.0, ge=0)
    # WebRTC listeners one node serves at most, all spaces together; the next listener's offer
    # is refused (503 `webrtc_listener_cap`, with the HLS playlist) and the web client listens
    # by HLS instead. Unset: no cap. People on stage are never capped.
    webrtc_listener_cap: int | None = Field(default=None, ge=0)
    # Recordings (issue 10) live here (unset: data_dir/recordings). Several nodes share one
    # directory: any node serves a replay, and each home a space had wrote some of it.
    recordings_dir: Path | None = None
    # A finished recording is deleted this many days after its space ended (0: kept until
    # someone deletes it), unless a report on the space is still open.
    recording_retention_days: float = Field(default=30, ge=0)

    # Several nodes (issue 12). With a node secret, shared by every node of the deployment,
    # each live space is mixed on one home node (a lease in the database, renewed every third
    # of `home_lease_seconds`); other nodes relay its program to their own listeners and pass
    # speakers' offers on to it. Without one, each node mixes the spaces whose media reach it.
    node_secret: SecretStr | None = None
    # This node's id (unset: a new one at each start, so a restarted node is a new node) and
    # the URL other nodes reach it at (unset: http://host:port).
    node_id: str | None = Field(default=None, min_length=1, max_length=32, pattern=r"^[\w.-]+$")
    node_url: str | None = None
    # A dead home node's spaces move to another node this long after its last renewal at most.
    home_lease_seconds: float = Field(default=6.0, ge=0.5, le=300)
    # A draining node (SIGTERM, `parley admin drain`) waits this long at most for requests
    # still running before it stops anyway (event sockets are told to reconnect at once).
    drain_seconds: float = Field(default=30.0, ge=0, le=3600)
    # Live captions (issue 14): which recognizer turns each speaker's voice into `caption`
    # events (off, pocketsphinx: bundled and offline, vosk or whisper: with a model directory
    # of your own in `captions_model`, never downloaded), its pocketsphinx tuning (presets in
    # media/captions/engines.py, measured in docs/benchmarks.md), the worker processes that run
    # it, and how much audio may wait for them before phrases go uncaptioned.
    captions: CaptionEngine = CaptionEngine.POCKETSPHINX
    captions_model: Path | None = None
    captions_tuning: str = "default"
    captions_workers: int = Field(default=1, ge=1, le=64)
    captions_max_backlog_seconds: float = Field(default=4.0, gt=0, le=120)

    # HTTP edge: what a client may send, and who may read the metrics.
    # Request bodies larger than this are refused with 413 before they are read (the largest
    # legitimate body, an appeal or a space's description, is a few KiB).
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    # The WebRTC offer (`POST /spaces/{id}/media`) gets more: a browser's offer is 5-10 KB.
    max_sdp_body_bytes: int = Field(default=128 * 1024, ge=1024)
    # A WebSocket message larger than this closes the socket (1009) before it is buffered.
    max_ws_message_bytes: int = Field(default=64 * 1024, ge=1024)
    # Every WebSocket is pinged this often; a client that has not answered one within as long
    # is let go. A proxy in front so sees traffic on every socket of a live node, and its read
    # timeout (deploy/nginx: 60 s) closes those of a node gone silent.
    ws_ping_seconds: float = Field(default=20.0, gt=0, le=300)
    # Addresses (CIDR, comma-separated or a JSON array) that may read `GET /metrics`.
    metrics_allowed_networks: Annotated[list[IPv4Network | IPv6Network], NoDecode] = Field(
        default_factory=lambda: [ip_network("127.0.0.0/8"), ip_network("::1/128")]
    )
    # Swagger UI at /docs, from assets served by Parley itself (`make setup` fetches them).
    api_docs: bool = True

    # Rate limits (core.ratelimit has the table and the defaults). Off only for benchmarks that
    # play thousands of people from one address.
    rate_limits: bool = True
    # Overrides of the defaults: `posts=10/min,reactions=20/10s` or a JSON object.
    rate_limit_overrides: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)
    # A refusal (429) is answered this late, which slows a flood that waits for its answers.
    rate_limit_refusal_delay_seconds: float = Field(default=0.5, ge=0, le=10)
    # Keys in Redis start with this, so several deployments can share one Redis.
    rate_limit_key_prefix: str = "parley:rl:"
    # Proxies (CIDR) whose X-Forwarded-For is believed when counting by address; empty: the
    # peer's address is the client's. Set it to the load balancer's addresses behind one.
    trusted_proxies: Annotated[list[IPv4Network | IPv6Network], NoDecode] = Field(
        default_factory=list
    )
    # argon2 hashes at once (unset: one per core) and how many may wait; more get 503 `busy`.
    argon2_concurrency: int | None = Field(default=None, ge=1, le=256)
    # Eight behind one core is about 1.3 s of waiting at the production cost: past that, "busy,
    # try again" is the kinder answer.
    argon2_queue: int = Field(default=8, ge=0, le=10_000)

    @field_validator("link_shorteners", mode="before")
    @classmethod
    def _list_of_hosts(cls, hosts: str | list[str]) -> list[str]:
        if isinstance(hosts, str):
            text = hosts.strip()
            parsed = json.loads(text) if text.startswith("[") else text.split(",")
            return [str(h).strip() for h in parsed if str(h).strip()]
        return hosts

    @field_validator("turn_urls", mode="before")
    @classmethod
    def _list_of_urls(cls, urls: str | list[str]) -> list[str]:
        return cls._list_of_hosts(urls)

    @model_validator(mode="after")
    def _parts_within_segments(self) -> Settings:
        if self.hls_part_seconds and self.hls_part_seconds * 2 > self.hls_segment_seconds:
            raise ValueError("PARLEY_HLS_PART_SECONDS: at most half of PARLEY_HLS_SEGMENT_SECONDS")
        return self

    @model_validator(mode="after")
    def _turn_needs_both(self) -> Settings:
        if bool(self.turn_urls) != (self.turn_secret is not None):
            raise ValueError("PARLEY_TURN_URLS and PARLEY_TURN_SECRET go together: set both")
        return self

    @field_validator("rate_limit_overrides", mode="before")
    @classmethod
    def _overrides(cls, value: str | dict[str, str]) -> dict[str, str]:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("{"):
                parsed: dict[str, str] = json.loads(text)
                return parsed
            pairs = [item.split("=", 1) for item in text.split(",") if item.strip()]
            if any(len(pair) != 2 for pair in pairs):
                raise ValueError("write rate limit overrides as name=rate,... e.g. posts=10/min")
            return {name.strip(): rate.strip() for name, rate in pairs}
        return value

    @model_validator(mode="after")
    def _known_limits(self) -> Settings:
        limit_table(self.rate_limit_overrides)  # a typo fails at start-up, not silently
        return self

    @field_validator("metrics_allowed_networks", "trusted_proxies", mode="before")
    @classmethod
    def _list_of_networks(
        cls, networks: str | list[str | IPv4Network | IPv6Network]
    ) -> list[IPv4Network | IPv6Network]:
        items: list[str | IPv4Network | IPv6Network] | list[str]
        if isinstance(networks, str):
            text = networks.strip()
            items = json.loads(text) if text.startswith("[") else text.split(",")
        else:
            items = networks
        return [ip_network(str(n).strip(), strict=False) for n in items if str(n).strip()]

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, url: str | None) -> str | None:
        if url is None:
            return None
        for plain, driver in (
            ("postgresql://", "postgresql+asyncpg://"),
            ("postgres://", "postgresql+asyncpg://"),
            ("sqlite://", "sqlite+aiosqlite://"),
        ):
            if url.startswith(plain):
                return driver + url.removeprefix(plain)
        return url

    @property
    def effective_node_url(self) -> str:
        return (self.node_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def effective_recordings_dir(self) -> Path:
        return self.recordings_dir or self.data_dir / "recordings"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'parley.db').resolve()}"
