"""The private attributes of aiortc's objects that the package reads and writes: name-mangled,
so spelled out here once."""

# Name-mangled private attributes: RTCRtpReceiver's jitter buffer, RTCRtpSender's sender-report
# figures, RTCPeerConnection's connecting coroutine.
_JITTER_BUFFER = "_RTCRtpReceiver__jitter_buffer"
_NTP_TIMESTAMP = "_RTCRtpSender__ntp_timestamp"
_RTP_TIMESTAMP = "_RTCRtpSender__rtp_timestamp"
_PACKET_COUNT = "_RTCRtpSender__packet_count"
_OCTET_COUNT = "_RTCRtpSender__octet_count"
_REPORT_FIGURES = (_NTP_TIMESTAMP, _RTP_TIMESTAMP, _PACKET_COUNT, _OCTET_COUNT)
# What the sender's last sender report said, and when it went: round-trip times refer to it.
_LAST_SR = "_RTCRtpSender__lsr"
_LAST_SR_TIME = "_RTCRtpSender__lsr_time"
# The sender's RTCP task: started and exited (stop() waits for both), and the CNAME it reports.
_RTCP_STARTED = "_RTCRtpSender__rtcp_started"
_RTCP_EXITED = "_RTCRtpSender__rtcp_exited"
_CNAME = "_RTCRtpSender__cname"
_CONNECT = "_RTCPeerConnection__connect"
