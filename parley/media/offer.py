"""What an SDP offer must be before aiortc sees it: one audio section we can answer, complete.

aiortc's own parser and negotiation trust their input: a malformed line fails an `assert`, a
video section without a codec it knows raises OperationError, a section without a DTLS
fingerprint fails only later, in a background task, and every remote candidate becomes ICE
checks the server sends to whatever address it names. Checking the offer here first turns all
of that into a refusal with a stable code.

Non-audio sections are refused rather than answered with a rejected (port 0) section: aiortc
cannot write one, and what it writes instead would either fail on the codecs or invite the
browser to send video to the server. A client told `unsupported_media` offers audio alone.
"""

from __future__ import annotations

from parley.media.aiortc_internals import OfferedMedia, UnparsableSdp, parse_offer

# A browser offers a handful of candidates (one per interface and protocol, a reflexive and a
# relayed one); every remote candidate costs ICE checks towards the address it names.
MAX_CANDIDATES = 64


class OfferRefused(ValueError):
    """The offer cannot be answered; `code` is stable, for clients to match on."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def check_offer(text: str) -> OfferedMedia:
    """Refuse an offer that does not parse, is not one complete Opus audio section, or names
    too many candidates; its audio section otherwise."""
    try:
        sections = parse_offer(text)
    except UnparsableSdp as exc:
        raise OfferRefused("invalid_sdp", "The offer does not parse as SDP") from exc
    if not any(m.kind == "audio" for m in sections):
        raise OfferRefused("invalid_sdp", "The offer has no audio")
    if [m.kind for m in sections] != ["audio"]:
        raise OfferRefused(
            "unsupported_media",
            "Offer one audio section only: spaces carry neither video nor data channels",
        )
    audio = sections[0]
    if not audio.ice_credentials:
        raise OfferRefused("invalid_sdp", "The offer has no ICE username fragment or password")
    if not audio.dtls_fingerprints:
        raise OfferRefused("invalid_sdp", "The offer has no DTLS fingerprint")
    if not audio.rtcp_mux:
        raise OfferRefused("invalid_sdp", "The offer does not multiplex RTCP (rtcp-mux)")
    if "audio/opus" not in audio.codecs:
        raise OfferRefused("unsupported_media", "The offer's audio does not include Opus")
    if audio.candidates > MAX_CANDIDATES:
        raise OfferRefused(
            "invalid_sdp", f"The offer names more than {MAX_CANDIDATES} ICE candidates"
        )
    return audio
