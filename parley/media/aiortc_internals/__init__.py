"""Everything Parley uses of aiortc (and its aioice) beyond the documented API, and a check that
it is all there.

The media edge reaches into aiortc where its public API is too slow or too loose for a server:
the program is sent to every listener from one task (fanout.py), straight through each
listener's SRTP session and selected ICE pair when `direct_send_problems()` finds them
(sendpath.py), with RTCP sender reports from a task of ours; inbound audio skips the playout
buffer (ingress.py); packets and consent requests are noted as signs of life, a listener's RTCP
is thinned and no consent is asked of peers (liveness.py); a connection mid-handshake can be
closed cleanly (connection.py); and offers are checked with aiortc's own SDP parser before it
negotiates them (offer.py). aiortc promises none of these names, so they are used in this
package and nowhere else: `sending`, `receiving`, `connecting`, the name-mangled attributes in
`_names`, and `checks`, whose `self_check()` runs at node start-up: an aiortc that no longer
matches stops the server with a message naming what changed, instead of breaking calls one by
one. The range of aiortc versions this was tested with is pinned in pyproject.toml
(SUPPORTED_AIORTC). Import from the package, not from its modules.
"""

from __future__ import annotations

from aiortc.exceptions import OperationError
from aiortc.jitterbuffer import JitterFrame
from aiortc.rtp import RtpPacket

from parley.media.aiortc_internals.checks import SUPPORTED_AIORTC, AiortcMismatch, self_check
from parley.media.aiortc_internals.connecting import (
    ConnectHookedPeerConnection,
    OfferedMedia,
    UnparsableSdp,
    parse_offer,
)
from parley.media.aiortc_internals.receiving import (
    FrameAssembler,
    answer_consent_only,
    ice_connection,
    jitter_buffer,
    on_packets_from_peer,
    payload_of,
    replace_jitter_buffer,
    thin_rtcp,
    track_queue,
)
from parley.media.aiortc_internals.sending import (
    RTP_PATCH_OFFSET,
    OutboundRtp,
    SelectedPair,
    Wire,
    direct_send_problems,
    header_template,
    ntp_now,
    on_send,
    report_every,
    reported_packets,
    unsend,
)

__all__ = [
    "RTP_PATCH_OFFSET",
    "SUPPORTED_AIORTC",
    "AiortcMismatch",
    "ConnectHookedPeerConnection",
    "FrameAssembler",
    "JitterFrame",
    "OfferedMedia",
    "OperationError",
    "OutboundRtp",
    "RtpPacket",
    "SelectedPair",
    "UnparsableSdp",
    "Wire",
    "answer_consent_only",
    "direct_send_problems",
    "header_template",
    "ice_connection",
    "jitter_buffer",
    "ntp_now",
    "on_packets_from_peer",
    "on_send",
    "parse_offer",
    "payload_of",
    "replace_jitter_buffer",
    "report_every",
    "reported_packets",
    "self_check",
    "thin_rtcp",
    "track_queue",
    "unsend",
]
