"""Settings, read from `PARLEY_*` environment variables, with defaults that run one node."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: str = "info"

    stage_size: int = Field(default=13, ge=2, le=100)
    host_grace_seconds: float = Field(default=60.0, ge=0)
    # A participant whose last event socket closed this long ago (and who did not come back)
    # leaves the space; the host gets `host_grace_seconds` instead.
    presence_timeout_seconds: float = Field(default=30.0, ge=0)
    # How often each node looks for hosts whose grace period ran out and absent participants.
    sweep_interval_seconds: float = Field(default=1.0, gt=0)

    # Events kept per space for `since=N` resumes; older cursors get a fresh snapshot.
    event_replay_limit: int = Field(default=1000, ge=1)
    # Messages queued for one WebSocket before that client is told to resync.
    client_queue_size: int = Field(default=256, ge=1)

    # STUN/TURN servers for the server's peer connections and handed to clients with each answer,
    # as JSON: '[{"urls": "stun:stun.example.org:3478"}]'. Empty: host candidates only, which
    # is enough on one machine or a LAN.
    ice_servers: list[IceServer] = Field(default_factory=list)
    # A media connection that shows no sign of life (no RTCP, no ICE consent) this long is dropped.
    media_silence_seconds: float = Field(default=10.0, gt=0)

    # argon2id cost. The defaults follow RFC 9106's second recommendation; tests lower them.
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65536, ge=8)

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
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'parley.db').resolve()}"
