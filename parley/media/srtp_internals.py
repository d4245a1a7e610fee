"""What the C fan-out (`_fanout.c`) uses of pylibsrtp beyond its documented API, and a check.

pylibsrtp wraps libsrtp 2 through cffi: a `Session` keeps its `srtp_t` in the private `_srtp`
(an `srtp_t *`), and its `_binding` module exposes libsrtp's functions. The C fan-out calls
`srtp_protect` itself, on that very context, from pylibsrtp's own copy of libsrtp (so the context
and the code that reads it are always the same library and version; no second libsrtp is
linked). Those names are used here and nowhere else, and `native_send_problems()` checks them
once: that the C helper is built, that the names are there with the libsrtp 2 signature, and
that a datagram the C loop protects is byte for byte the one `Session.protect` makes. If not,
the fan-out keeps the Python send path (sendpath.py), and says why once.
"""

from __future__ import annotations

import functools
import importlib
import os
from types import ModuleType
from typing import Any

from pylibsrtp import Policy, Session

# libsrtp 2: srtp_err_status_t srtp_protect(srtp_t ctx, void *rtp_hdr, int *len_ptr).
_PROTECT_SIGNATURE = "srtp_err_status_t(*)(struct srtp_ctx_t_ *, void *, int *)"


def fanout_module() -> ModuleType | None:
    """The C fan-out, or None where it was not built (not Linux, no compiler)."""
    try:
        return importlib.import_module("parley.media._fanout")
    except ImportError:
        return None


def _binding() -> Any:
    return importlib.import_module("pylibsrtp._binding")


def protect_address() -> int:
    """The address of srtp_protect in pylibsrtp's libsrtp."""
    binding = _binding()
    ffi, lib = binding.ffi, binding.lib
    return int(ffi.cast("uintptr_t", ffi.addressof(lib, "srtp_protect")))


def context_address(session: Session) -> int:
    """The address of the session's srtp_t (valid while the session object lives: pylibsrtp
    frees it when the session is collected, so the C fan-out keeps a reference to the session)."""
    ffi = _binding().ffi
    return int(ffi.cast("uintptr_t", session._srtp[0]))


@functools.cache
def native_send_problems() -> tuple[str, ...]:
    """Why the fan-out cannot send through the C loop (empty: it can)."""
    module = fanout_module()
    if module is None:
        return ("parley.media._fanout is not built (pip install -e .)",)
    try:
        binding = _binding()
        signature = binding.ffi.typeof(binding.lib.srtp_protect).cname
        if signature != _PROTECT_SIGNATURE:
            return (f"pylibsrtp's srtp_protect is {signature}, not libsrtp 2's",)
        if not isinstance(getattr(Session(), "_srtp", None), binding.ffi.CData):
            return ("pylibsrtp.Session keeps no _srtp context",)
        return _protecting_problems(module)
    except Exception as exc:
        return (f"checking pylibsrtp's binding failed: {exc!r}",)


def _protecting_problems(module: ModuleType) -> tuple[str, ...]:
    """Protect the same packets in C and with Session.protect, on two sessions of one key,
    and compare what a listener would receive."""
    import socket

    key = os.urandom(30)
    by_python = Session(Policy(key, Policy.SSRC_ANY_OUTBOUND))
    by_c = Session(Policy(key, Policy.SSRC_ANY_OUTBOUND))
    header = bytes.fromhex("80ef") + bytes(10)  # version 2, marker, payload type 111
    into = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        into.bind(("127.0.0.1", 0))
        into.settimeout(1)
        host, port = into.getsockname()
        address = socket.AF_INET.to_bytes(2, "little") + port.to_bytes(2, "big")
        address += socket.inet_aton(host) + bytes(8)
        fanout = module.Fanout(protect_address())
        fanout.wire(by_c, context_address(by_c), out.fileno(), address, 0x1234, 7, 1000, 0, 0, 0)
        for tick in range(3):
            payload = bytes([tick]) * 20
            fanout.send((header + payload,), 960 * tick, 0, len(payload))
            expected = bytearray(header + payload)
            expected[2:12] = (
                (7 + tick).to_bytes(2, "big")
                + (1000 + 960 * tick).to_bytes(4, "big")
                + (0x1234).to_bytes(4, "big")
            )
            if into.recv(2048) != by_python.protect(bytes(expected)):
                return ("a packet protected by the C fan-out differs from Session.protect's",)
        left = fanout.unwire(0)
        if left != (10, 3, 60, 1000 + 1920, 0):
            return (f"the C fan-out counted {left} for three packets",)
        return ()
    finally:
        into.close()
        out.close()
