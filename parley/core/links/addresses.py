"""Which IP addresses a link check may contact: one classification, from the IANA registries.

The server follows shortener redirects on behalf of anyone, so every address it connects to must
be on the public internet; otherwise a link aims it at its own network (SSRF). "Public" here is
the absence of any entry of the IANA IPv4 and IPv6 Special-Purpose Address Registries
(iana.org/assignments/iana-ipv4-special-registry, iana-ipv6-special-registry), plus multicast
and the IPv6 space outside global unicast (2000::/3), which the IPv6 Address Space registry
reserves. Entries the registry marks globally reachable (AS112, AMT, PCP and TURN anycast) are
refused too: no link leads there, and a short list of exceptions is easier to trust than a long
one.

Addresses that carry an IPv4 address inside them are judged by it as well: IPv4-mapped and
IPv4-translated (SIIT), IPv4-compatible, NAT64, 6to4 and Teredo. The NAT64 well-known prefix
64:ff9b::/96 is the one wrapper allowed for a public IPv4 address: it is how an IPv6-only host
reaches the IPv4 internet, so for it the embedded address decides. IPv4-mapped addresses likewise
reach exactly their IPv4 address. The other wrappers are refused whatever they carry, naming the
embedded address's own entry when it has one.

Python's `ipaddress.is_global` is not used: its tables change between Python releases and it
looks through no wrapper but IPv4-mapped.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from functools import cache
from typing import Final

__all__ = [
    "SPECIAL_RANGES",
    "IPAddress",
    "SpecialRange",
    "contactable",
    "embedded_ipv4",
    "special_range",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class SpecialRange:
    network: IPNetwork
    name: str
    source: str  # the RFC (or registry) that defines it


def _r(network: str, name: str, source: str) -> SpecialRange:
    return SpecialRange(ipaddress.ip_network(network), name, source)


# The registries' entries (as of 2025), then what other registries reserve. Order does not
# matter: the most specific entry containing an address is the one named.
SPECIAL_RANGES: Final[tuple[SpecialRange, ...]] = (
    # IPv4 Special-Purpose Address Registry
    _r("0.0.0.0/8", "This network", "RFC 791"),
    _r("0.0.0.0/32", "This host on this network", "RFC 1122"),
    _r("10.0.0.0/8", "Private-Use", "RFC 1918"),
    _r("100.64.0.0/10", "Shared Address Space", "RFC 6598"),
    _r("127.0.0.0/8", "Loopback", "RFC 1122"),
    _r("169.254.0.0/16", "Link Local", "RFC 3927"),
    _r("172.16.0.0/12", "Private-Use", "RFC 1918"),
    _r("192.0.0.0/24", "IETF Protocol Assignments", "RFC 6890"),
    _r("192.0.0.0/29", "IPv4 Service Continuity Prefix", "RFC 7335"),
    _r("192.0.0.8/32", "IPv4 dummy address", "RFC 7600"),
    _r("192.0.0.9/32", "Port Control Protocol Anycast", "RFC 7723"),
    _r("192.0.0.10/32", "Traversal Using Relays around NAT Anycast", "RFC 8155"),
    _r("192.0.0.170/32", "NAT64/DNS64 Discovery", "RFC 7050"),
    _r("192.0.0.171/32", "NAT64/DNS64 Discovery", "RFC 7050"),
    _r("192.0.2.0/24", "Documentation (TEST-NET-1)", "RFC 5737"),
    _r("192.31.196.0/24", "AS112-v4", "RFC 7535"),
    _r("192.52.193.0/24", "AMT", "RFC 7450"),
    _r("192.88.99.0/24", "Deprecated (6to4 Relay Anycast)", "RFC 7526"),
    _r("192.168.0.0/16", "Private-Use", "RFC 1918"),
    _r("192.175.48.0/24", "Direct Delegation AS112 Service", "RFC 7534"),
    _r("198.18.0.0/15", "Benchmarking", "RFC 2544"),
    _r("198.51.100.0/24", "Documentation (TEST-NET-2)", "RFC 5737"),
    _r("203.0.113.0/24", "Documentation (TEST-NET-3)", "RFC 5737"),
    _r("240.0.0.0/4", "Reserved", "RFC 1112"),
    _r("255.255.255.255/32", "Limited Broadcast", "RFC 919"),
    # IPv4 Multicast Address Space registry
    _r("224.0.0.0/4", "Multicast", "RFC 5771"),
    # IPv6 Special-Purpose Address Registry
    _r("::1/128", "Loopback Address", "RFC 4291"),
    _r("::/128", "Unspecified Address", "RFC 4291"),
    _r("::ffff:0:0/96", "IPv4-mapped Address", "RFC 4291"),
    _r("64:ff9b::/96", "IPv4-IPv6 Translat.", "RFC 6052"),
    _r("64:ff9b:1::/48", "IPv4-IPv6 Translat.", "RFC 8215"),
    _r("100::/64", "Discard-Only Address Block", "RFC 6666"),
    _r("100:0:0:1::/64", "Dummy IPv6 Prefix", "RFC 9780"),
    _r("2001::/23", "IETF Protocol Assignments", "RFC 2928"),
    _r("2001::/32", "TEREDO", "RFC 4380"),
    _r("2001:1::1/128", "Port Control Protocol Anycast", "RFC 7723"),
    _r("2001:1::2/128", "Traversal Using Relays around NAT Anycast", "RFC 8155"),
    _r("2001:1::3/128", "DNS-SD Service Registration Protocol Anycast", "RFC 9665"),
    _r("2001:2::/48", "Benchmarking", "RFC 5180"),
    _r("2001:3::/32", "AMT", "RFC 7450"),
    _r("2001:4:112::/48", "AS112-v6", "RFC 7535"),
    _r("2001:10::/28", "Deprecated (previously ORCHID)", "RFC 4843"),
    _r("2001:20::/28", "ORCHIDv2", "RFC 7343"),
    _r("2001:30::/28", "Drone Remote ID Protocol Entity Tags (DETs) Prefix", "RFC 9374"),
    _r("2001:db8::/32", "Documentation", "RFC 3849"),
    _r("2002::/16", "6to4", "RFC 3056"),
    _r("2620:4f:8000::/48", "Direct Delegation AS112 Service", "RFC 7534"),
    _r("3fff::/20", "Documentation", "RFC 9637"),
    _r("5f00::/16", "Segment Routing (SRv6) SIDs", "RFC 9602"),
    _r("fc00::/7", "Unique-Local", "RFC 4193"),
    _r("fe80::/10", "Link-Local Unicast", "RFC 4291"),
    # Beyond that registry: IPv4-compatible (deprecated), SIIT's IPv4-translated form, the old
    # site-local block, multicast, and everything outside global unicast.
    _r("::/96", "IPv4-compatible Address (deprecated)", "RFC 4291"),
    _r("::ffff:0:0:0/96", "IPv4-translated Address", "RFC 2765"),
    _r("fec0::/10", "Site-Local (deprecated)", "RFC 3879"),
    _r("ff00::/8", "Multicast", "RFC 4291"),
    _r("::/3", "Reserved by IETF (not global unicast)", "RFC 4291"),
    _r("4000::/2", "Reserved by IETF (not global unicast)", "RFC 4291"),
    _r("8000::/1", "Reserved by IETF (not global unicast)", "RFC 4291"),
)

_NAT64: Final = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL: Final = ipaddress.IPv6Network("64:ff9b:1::/48")
_MAPPED: Final = ipaddress.IPv6Network("::ffff:0:0/96")
_TRANSLATED: Final = ipaddress.IPv6Network("::ffff:0:0:0/96")
_COMPATIBLE: Final = ipaddress.IPv6Network("::/96")
# Wrappers that reach exactly the IPv4 address they carry: the embedded address decides.
_TRANSPARENT: Final = (_NAT64, _MAPPED)


def embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries, for the forms that carry one."""
    if isinstance(ip, ipaddress.IPv4Address):
        return None
    low32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _MAPPED or ip in _TRANSLATED or ip in _NAT64:
        return low32
    if ip in _COMPATIBLE and int(ip) > 1:  # not :: or ::1, which are their own entries
        return low32
    if ip in _NAT64_LOCAL:
        # RFC 6052 with a /48 prefix: the IPv4 address is in bits 48-63 and 72-87 (the
        # "u" octet, bits 64-71, is zero).
        value = int(ip)
        high = (value >> 64) & 0xFFFF
        low = (value >> 40) & 0xFFFF
        return ipaddress.IPv4Address(high << 16 | low)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]  # the client's address (the server's is public by definition)
    return None


def special_range(ip: IPAddress) -> SpecialRange | None:
    """The registry entry that makes `ip` unfit to contact, or None for a public address.

    For a wrapper, the entry of the IPv4 address inside comes first when it has one, so the
    answer names what would really be reached (10.0.0.1 inside 6to4 is "Private-Use").
    """
    embedded = embedded_ipv4(ip)
    inner = special_range(embedded) if embedded is not None else None
    if inner is not None:
        return inner
    outer = _most_specific(ip)
    if outer is not None and embedded is not None and any(ip in n for n in _TRANSPARENT):
        return None  # a public IPv4 address, reached through NAT64 or the mapped form
    return outer


def contactable(ip: IPAddress) -> bool:
    """Whether a link check may connect to `ip`."""
    return special_range(ip) is None


def _most_specific(ip: IPAddress) -> SpecialRange | None:
    best: SpecialRange | None = None
    for entry in _ranges(ip.version):
        if ip in entry.network and (
            best is None or entry.network.prefixlen > best.network.prefixlen
        ):
            best = entry
    return best


@cache
def _ranges(version: int) -> tuple[SpecialRange, ...]:
    return tuple(r for r in SPECIAL_RANGES if r.network.version == version)
