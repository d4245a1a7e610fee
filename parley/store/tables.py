"""The schema. Alembic migrations under `migrations/` create it; this module is their reference."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from parley.store.types import UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = String(32)

accounts = Table(
    "accounts",
    metadata,
    Column("id", ID, primary_key=True),
    Column("handle", String(15), nullable=False),
    Column("handle_key", String(15), nullable=False, unique=True),
    Column("display_name", String(50), nullable=False),
    Column("bio", String(160), nullable=False, server_default=""),
    Column("password_hash", Text, nullable=False),
    Column("state", String(16), nullable=False, server_default="active"),
    Column("is_admin", Boolean, nullable=False, server_default="0"),
    Column("created_at", UTCDateTime, nullable=False),
    # Set while suspended (or limited) for a time; the sweep lifts it when it is due.
    Column("suspended_until", UTCDateTime, nullable=True),
    # The moderation action behind the current suspension or limit: an overturned appeal lifts
    # the restriction its action imposed, never a later one of the same kind.
    Column("restricted_by", ID, nullable=True),
)

# A limit a suspension came over (core.moderation.HeldLimit): it holds again when the suspension
# ends, unless its own end came first or an appeal overturned it meanwhile.
held_limits = Table(
    "held_limits",
    metadata,
    Column("account_id", ID, ForeignKey("accounts.id"), primary_key=True),
    Column("action_id", ID, nullable=True),
    Column("until", UTCDateTime, nullable=True),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", ID, primary_key=True),
    Column("account_id", ID, ForeignKey("accounts.id"), nullable=False, index=True),
    # sha256 of the bearer token: a leaked table does not leak usable tokens.
    Column("token_hash", String(64), nullable=False, unique=True),
    # "full", or "appeal": what a suspended account gets at sign-in, good only for reading its
    # notices and appealing.
    Column("scope", String(8), nullable=False, server_default="full"),
    Column("created_at", UTCDateTime, nullable=False),
    # Written at most every few minutes (PARLEY_SESSION_TOUCH_SECONDS): what idle expiry reads.
    Column("last_used_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
)

follows = Table(
    "follows",
    metadata,
    Column("follower_id", ID, ForeignKey("accounts.id"), primary_key=True),
    Column("followee_id", ID, ForeignKey("accounts.id"), primary_key=True, index=True),
    Column("created_at", UTCDateTime, nullable=False),
)

blocks = Table(
    "blocks",
    metadata,
    Column("blocker_id", ID, ForeignKey("accounts.id"), primary_key=True),
    Column("blocked_id", ID, ForeignKey("accounts.id"), primary_key=True, index=True),
    Column("created_at", UTCDateTime, nullable=False),
)

posts = Table(
    "posts",
    metadata,
    Column("id", ID, primary_key=True),
    Column("author_id", ID, ForeignKey("accounts.id"), nullable=False),
    Column("text", String(280), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # The place a post carries (core.location.Place), all null when it has none.
    Column("place_latitude", Float, nullable=True),
    Column("place_longitude", Float, nullable=True),
    Column("place_observed_at", UTCDateTime, nullable=True),
    Column("place_label", String(100), nullable=True),
    # Deleted by its author: kept for the reports and moderation that name it, shown to nobody.
    Column("deleted_at", UTCDateTime, nullable=True),
    # Removed by a moderator: the action's id (moderation_actions), until an appeal undoes it.
    Column("removed_by", ID, nullable=True),
    # The space it shares, shown with it as a card while that space may be shown.
    Column("space_id", ID, nullable=True),
    Index("ix_posts_author_created", "author_id", "created_at"),
)

spaces = Table(
    "spaces",
    metadata,
    Column("id", ID, primary_key=True),
    Column("host_id", ID, ForeignKey("accounts.id"), nullable=False, index=True),
    Column("title", String(100), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("topics", JSON, nullable=False),
    Column("state", String(16), nullable=False, index=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("scheduled_start", UTCDateTime, nullable=True),
    Column("started_at", UTCDateTime, nullable=True),
    Column("ended_at", UTCDateTime, nullable=True),
    Column("recording", Boolean, nullable=False),
    Column("speak_policy", String(16), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("listener_count", Integer, nullable=False),
    Column("tuned_in", Integer, nullable=False, server_default="0"),
    Column("peak_listeners", Integer, nullable=False, server_default="0"),
    Column("host_absent_since", UTCDateTime, nullable=True),
    Column("end_reason", String(32), nullable=True),
    Column("pinned", JSON, nullable=False, server_default="[]"),
)

participants = Table(
    "participants",
    metadata,
    Column("space_id", ID, ForeignKey("spaces.id"), primary_key=True),
    Column("account_id", ID, ForeignKey("accounts.id"), primary_key=True, index=True),
    Column("handle", String(15), nullable=False),
    Column("role", String(16), nullable=False),
    Column("muted", Boolean, nullable=False),
    Column("hand_raised", Boolean, nullable=False),
    Column("invited", Boolean, nullable=False),
    Column("present", Boolean, nullable=False),
    Column("removed", Boolean, nullable=False),
    Column("audio_lost", Boolean, nullable=False),
    Column("joined_at", UTCDateTime, nullable=False),
    Column("role_since", UTCDateTime, nullable=False),
    # When a connection of theirs last closed: with none left open (node_connections), the
    # participant is away since then and leaves after the presence timeout.
    Column("disconnected_at", UTCDateTime, nullable=True),
    Index("ix_participants_space_role", "space_id", "role", "present"),
)

space_events = Table(
    "space_events",
    metadata,
    Column("space_id", ID, ForeignKey("spaces.id"), primary_key=True),
    # The primary key refuses a second event with the same number: no duplicates, ever.
    Column("seq", Integer, primary_key=True),
    Column("type", String(32), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("data", JSON, nullable=False),
)

reminders = Table(
    "reminders",
    metadata,
    Column("space_id", ID, ForeignKey("spaces.id"), primary_key=True),
    Column("account_id", ID, ForeignKey("accounts.id"), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
)

# --- recordings (issue 10): the program's segments kept on disk, indexed here ------------------

recordings = Table(
    "recordings",
    metadata,
    Column("space_id", ID, ForeignKey("spaces.id"), primary_key=True),
    # The space's host when recording began: their suspension hides it, whoever hosts later.
    Column("host_id", ID, ForeignKey("accounts.id"), nullable=False, index=True),
    Column("created_at", UTCDateTime, nullable=False),
    # Set once the space is over and every segment is in: the VOD playlist gets its ENDLIST.
    Column("finalized_at", UTCDateTime, nullable=True, index=True),
    # A deleted recording keeps its row (410 rather than 404); its files and segments are gone.
    Column("deleted_at", UTCDateTime, nullable=True),
    Column("deleted_by", ID, nullable=True),
    Column("deletion", String(16), nullable=True),
    # Removed by a moderator: the action's id (moderation_actions). Deleted to every reader,
    # but its files and rows are kept, for an appeal that overturns it, until its retention.
    Column("removed_by", ID, nullable=True),
)

recording_segments = Table(
    "recording_segments",
    metadata,
    Column("space_id", ID, ForeignKey("recordings.space_id"), primary_key=True),
    # The live stream's sequence number: numbering follows the clock's seconds, so segments of
    # a node that restarted sort after the ones before.
    Column("sequence", BigInteger, primary_key=True, autoincrement=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("duration", Float, nullable=False),
    Column("size", Integer, nullable=False),
    Column("discontinuity", Boolean, nullable=False),
)

clips = Table(
    "clips",
    metadata,
    Column("id", ID, primary_key=True),
    Column("space_id", ID, ForeignKey("spaces.id"), nullable=False, index=True),
    Column("account_id", ID, ForeignKey("accounts.id"), nullable=False),
    # Where it starts: a segment and seconds into it, so trimming the recording's start
    # (which drops whole segments) leaves the clip where it was.
    Column("start_sequence", BigInteger, nullable=False),
    Column("start_offset", Float, nullable=False),
    Column("duration", Float, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", ID, ForeignKey("accounts.id"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("data", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_notifications_account", "account_id", "id"),
)

# How far each account has read its notifications: the newest id seen (none without a row).
notification_marks = Table(
    "notification_marks",
    metadata,
    Column("account_id", ID, ForeignKey("accounts.id"), primary_key=True),
    Column("seen_id", Integer, nullable=False),
)

# --- trust and safety -----------------------------------------------------------------------

moderation_actions = Table(
    "moderation_actions",
    metadata,
    Column("id", ID, primary_key=True),
    Column("action", String(32), nullable=False),
    Column("target_type", String(16), nullable=False),
    Column("target_id", ID, nullable=False),
    # None: the system (a suspension that ran out).
    Column("actor_id", ID, ForeignKey("accounts.id"), nullable=True),
    Column("rule", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("until", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_moderation_actions_target", "target_type", "target_id"),
)

notices = Table(
    "notices",
    metadata,
    Column("id", ID, primary_key=True),
    Column("account_id", ID, ForeignKey("accounts.id"), nullable=False, index=True),
    Column("action_id", ID, ForeignKey("moderation_actions.id"), nullable=False),
    Column("action", String(32), nullable=False),
    Column("rule", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("until", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
)

appeals = Table(
    "appeals",
    metadata,
    Column("id", ID, primary_key=True),
    # One appeal per action: the notice names the action.
    Column("notice_id", ID, ForeignKey("notices.id"), nullable=False, unique=True),
    Column("account_id", ID, ForeignKey("accounts.id"), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("decision", String(16), nullable=True),
    Column("decision_reason", Text, nullable=True),
    Column("decided_by", ID, ForeignKey("accounts.id"), nullable=True),
    Column("decided_at", UTCDateTime, nullable=True),
)

reports = Table(
    "reports",
    metadata,
    Column("id", ID, primary_key=True),
    Column("reporter_id", ID, ForeignKey("accounts.id"), nullable=False),
    Column("target_type", String(16), nullable=False),
    Column("target_id", ID, nullable=False),
    Column("rule", String(64), nullable=False),
    Column("comment", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("resolved_by", ID, ForeignKey("accounts.id"), nullable=True),
    Column("resolved_at", UTCDateTime, nullable=True),
)

# Append-only: the code has no path that updates or deletes a row, and on PostgreSQL a trigger
# refuses UPDATE and DELETE (see the baseline migration, 0011).
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor_id", ID, nullable=True),
    Column("action", String(32), nullable=False, index=True),
    Column("target_type", String(16), nullable=False),
    Column("target_id", String(256), nullable=False),
    Column("rule", String(64), nullable=True),
    Column("reason", Text, nullable=True),
    Column("before", JSON, nullable=True),
    Column("after", JSON, nullable=True),
    Index("ix_audit_log_target", "target_type", "target_id"),
)

features = Table(
    "features",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("enabled", Boolean, nullable=False),
    Column("message", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_by", ID, nullable=True),
)

# Policies an admin sets for everyone, by name ("location": core.location.LocationPolicy).
policies = Table(
    "policies",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("delay_seconds", Integer, nullable=False),
    Column("rule", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_by", ID, nullable=True),
)

link_rules = Table(
    "link_rules",
    metadata,
    Column("id", ID, primary_key=True),
    Column("match", String(8), nullable=False),
    Column("pattern", Text, nullable=False),
    Column("canonical", Text, nullable=False),
    Column("verdict", String(8), nullable=False),
    Column("rule", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", ID, nullable=True),
)

# Every link shown in user content goes through /l/{id}, which checks it again when clicked.
links = Table(
    "links",
    metadata,
    Column("id", ID, primary_key=True),
    Column("url", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # The account that shared the link (null when none was given).
    Column("created_by", ID, nullable=True),
)

# An automated account (issue 13): an account like any other, run by its owner, who answers for
# it. Every profile and post of it names the owner.
bots = Table(
    "bots",
    metadata,
    Column("account_id", ID, ForeignKey("accounts.id"), primary_key=True),
    Column("owner_id", ID, ForeignKey("accounts.id"), nullable=False, index=True),
    Column("created_at", UTCDateTime, nullable=False),
    # Suspended or limited because its owner was: lifted with the owner's suspension or limit.
    # A bot suspended on its own is not, and stays suspended when its owner's suspension ends.
    Column("suspended_with_owner", Boolean, nullable=False, server_default="0"),
)

# An API token is a session (scope "token") with a name and scopes: revocation, last use and
# every way a session is ended (suspension, the sweep, sockets closing) apply to it as they are.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("session_id", ID, ForeignKey("sessions.id"), primary_key=True),
    # Who made it: the account it speaks as, or that account's owner when it is a bot's.
    Column("owner_id", ID, ForeignKey("accounts.id"), nullable=False, index=True),
    Column("name", String(50), nullable=False),
    # Space-separated, as OAuth writes scopes (core.tokens.Scope).
    Column("scopes", Text, nullable=False),
)

# A post its author asked to hold while the location policy says its place is too recent
# (core.held_posts): moved into `posts`, under the same id, by the sweep at `publish_at`.
held_posts = Table(
    "held_posts",
    metadata,
    Column("id", ID, primary_key=True),
    Column("author_id", ID, ForeignKey("accounts.id"), nullable=False, index=True),
    Column("text", String(280), nullable=False),
    Column("place_latitude", Float, nullable=False),
    Column("place_longitude", Float, nullable=False),
    Column("place_observed_at", UTCDateTime, nullable=False),
    Column("place_label", String(100), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("publish_at", UTCDateTime, nullable=False, index=True),
    Column("rule", String(64), nullable=False),
    Column("space_id", ID, nullable=True),
)

# Nodes of a deployment, as each advertises itself every few seconds (issue 12).
nodes = Table(
    "nodes",
    metadata,
    Column("id", ID, primary_key=True),
    Column("url", Text, nullable=False),
    Column("load", Integer, nullable=False),
    Column("seen_at", UTCDateTime, nullable=False),
)

# The node mixing each live space, under a lease it renews (core.homing). `epoch` goes up with
# every claim, so a node that lost the space meanwhile can tell.
space_homes = Table(
    "space_homes",
    metadata,
    Column("space_id", ID, ForeignKey("spaces.id"), primary_key=True),
    Column("node_id", ID, nullable=False),
    Column("node_url", Text, nullable=False),
    Column("lease_until", UTCDateTime, nullable=False),
    Column("epoch", Integer, nullable=False),
)

# The connections (event sockets, media) each node holds open, per account and space: the one
# count of them, by node so that a surviving node can take back the connections of one that
# died without closing them (store.connections). A row only while its count is above zero. No
# foreign keys: a socket may come before its owner joins, and a key would make PostgreSQL lock
# the space's row for each count.
node_connections = Table(
    "node_connections",
    metadata,
    Column("space_id", ID, primary_key=True),
    Column("account_id", ID, primary_key=True),
    Column("node_id", ID, primary_key=True, index=True),
    # Which worker process of the node (`parley serve --workers N`; 0 with one): each counts in
    # rows of its own, so one started again can take back what its previous life counted.
    Column("worker", Integer, primary_key=True),
    Column("sockets", Integer, nullable=False),
)

# Final captions of a space (issue 14), kept as its transcript. `seq` is the caption's event in
# the space's log; times are milliseconds from the space's start.
transcript_lines = Table(
    "transcript_lines",
    metadata,
    Column("space_id", ID, ForeignKey("spaces.id"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("speaker_id", ID, ForeignKey("accounts.id"), nullable=False),
    Column("start_ms", Integer, nullable=False),
    Column("end_ms", Integer, nullable=False),
    Column("text", Text, nullable=False),
)
