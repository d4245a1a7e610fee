"""The sending parameters of an Opus audio section as Parley negotiates them with a browser
(mid and abs-send-time header extensions), for driving a sender without a negotiation."""

from __future__ import annotations

from aiortc.rtcrtpparameters import (
    RTCRtcpParameters,
    RTCRtpCodecParameters,
    RTCRtpHeaderExtensionParameters,
    RTCRtpSendParameters,
)

OPUS = RTCRtpSendParameters(
    codecs=[RTCRtpCodecParameters("audio/opus", 48_000, 2, payloadType=111)],
    headerExtensions=[
        RTCRtpHeaderExtensionParameters(1, "urn:ietf:params:rtp-hdrext:sdes:mid"),
        RTCRtpHeaderExtensionParameters(
            3, "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
        ),
    ],
    muxId="0",
    rtcp=RTCRtcpParameters(),
)
