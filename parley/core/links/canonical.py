"""URL canonicalization: the Safe Browsing rules, plus what a link checker also needs.

Link rules are only as strong as the key they are matched on: every trick that makes one URL look
like another (case, percent-encoding, dots, IP spellings, userinfo, ports, fragments, dot segments)
has to land on the same string. We follow Google Safe Browsing's canonicalization
(developers.google.com/safe-browsing/v4/urls-hashing#canonicalization) step by step, and pass all
of its published examples, then add what DESIGN.md asks beyond it: IDN hosts to punycode through
UTS #46 (so full-width and mixed-case Unicode hosts meet their ASCII form), userinfo removed, and
ports removed (Safe Browsing removes every port, see `http://www.gotaport.com:1234/`, which covers
the default ports too); and backslashes are read as slashes, as browsers read them in http(s) URLs.

The result is a matching key, not a URL to send anyone to: unescaping `%2F` or `%3F` changes what a
server would see. Redirect to the URL as posted; match on this.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Final

import idna

__all__ = ["CanonicalURL", "InvalidURL", "canonical_host", "canonicalize", "split_canonical"]


class InvalidURL(ValueError):
    """Not something a browser would open as an http(s) URL: another scheme, or no host."""


@dataclass(frozen=True, slots=True)
class CanonicalURL:
    """The parts of a canonical URL; `str()` gives the canonical string."""

    scheme: str
    host: str  # lowercase ASCII, percent-escaped; dotted quad for IPv4, [..] for IPv6
    path: str  # starts with "/", percent-escaped, dot segments resolved, no empty segments
    query: str | None  # None: no "?" at all; "": a bare "?" (kept, as Safe Browsing does)

    def __str__(self) -> str:
        query = "" if self.query is None else "?" + self.query
        return f"{self.scheme}://{self.host}{self.path}{query}"


# At most this many rounds of percent-unescaping. Each round that changes anything shortens the
# string by at least two characters, so this only bounds absurd inputs; it never cuts a real one.
_MAX_UNESCAPE_ROUNDS: Final = 1024
_WEB_SCHEMES: Final = frozenset({"http", "https"})
_SCHEME_RE: Final = re.compile(rb"^([A-Za-z][A-Za-z0-9+.\-]*):")
_PORT_RE: Final = re.compile(rb"^:[0-9]+(?:[/?]|$)")
_ESCAPE_RE: Final = re.compile(rb"%([0-9A-Fa-f]{2})")
# Safe Browsing: percent-escape all characters <= ASCII 32, >= 127, "#" and "%", in uppercase hex.
_ESCAPED_BYTES: Final = frozenset([*range(0, 33), *range(127, 256), ord("#"), ord("%")])
_ESCAPE_TABLE: Final = tuple(f"%{b:02X}" if b in _ESCAPED_BYTES else chr(b) for b in range(256))
_IPV4_PART_RE: Final = re.compile(r"^(?:0[xX][0-9a-fA-F]*|0[0-7]*|[1-9][0-9]*)$")
# Dot look-alikes that UTS #46 maps to "." (ideographic, full-width and half-width full stops). They
# are replaced before the ASCII fast path, so "evil。example" never skips the IDN mapping.
_HOST_DELIMITERS: Final = frozenset("/\\?@:[]")
_DOT_LIKE: Final = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})


def canonicalize(url: str | bytes) -> str:
    """The canonical form of `url` as a string; raises `InvalidURL` for non-web URLs."""
    return str(canonical_parts(url))


def canonical_parts(url: str | bytes) -> CanonicalURL:
    """Canonicalize `url` (text, or raw bytes as Safe Browsing's examples give them)."""
    raw = url.encode("utf-8", "surrogatepass") if isinstance(url, str) else bytes(url)
    # Leading and trailing whitespace and control characters are never part of a URL.
    raw = raw.strip(bytes(range(33)))
    # Safe Browsing, first: remove tab, CR and LF (but not their escapes, like %0a).
    raw = raw.replace(b"\t", b"").replace(b"\r", b"").replace(b"\n", b"")
    # Second: remove the fragment. Before unescaping, so an escaped "%23" stays in the path.
    raw = raw.split(b"#", 1)[0]
    # Third: unescape until nothing is left to unescape (%2525... collapses to one "%").
    raw = _unescape_fully(raw)

    scheme, rest = _split_scheme(raw)
    # Browsers ignore any number of slashes (and backslashes) after "http:", and read "\" as "/"
    # before the query: "http:\\evil.example\@good.example/" goes to evil.example.
    rest = rest.lstrip(b"/\\")
    before_query, has_query, query = rest.partition(b"?")
    before_query = before_query.replace(b"\\", b"/")
    authority, slash, path = before_query.partition(b"/")
    host = canonical_host(_strip_userinfo_and_port(authority))
    if not host:
        raise InvalidURL("the URL has no host")
    return CanonicalURL(
        scheme=scheme,
        host=host,
        path=_canonical_path(slash + path),
        query=_escape(query) if has_query else None,
    )


def split_canonical(canonical_url: str) -> CanonicalURL:
    """Split a string `canonicalize` produced back into its parts, without re-canonicalizing.

    Cheap on purpose: rule checks call it once per URL. It relies on the canonical shape (no
    userinfo, no port, no fragment, a path that starts with "/").
    """
    scheme, sep, rest = canonical_url.partition("://")
    if not sep:
        raise InvalidURL(f"not a canonical URL: {canonical_url!r}")
    before_query, has_query, query = rest.partition("?")
    slash = before_query.find("/")
    if slash == -1:
        host, path = before_query, "/"
    else:
        host, path = before_query[:slash], before_query[slash:]
    return CanonicalURL(scheme, host, path, query if has_query else None)


def _unescape_fully(raw: bytes) -> bytes:
    for _ in range(_MAX_UNESCAPE_ROUNDS):
        unescaped = _ESCAPE_RE.sub(lambda m: bytes([int(m.group(1), 16)]), raw)
        if unescaped == raw:
            break
        raw = unescaped
    return raw


def _split_scheme(raw: bytes) -> tuple[str, bytes]:
    """The scheme (http when missing, as Safe Browsing assumes) and what follows it."""
    match = _SCHEME_RE.match(raw)
    if match is None:
        return "http", raw
    scheme = match.group(1).decode("ascii").lower()
    if scheme in _WEB_SCHEMES:
        return scheme, raw[match.end() :]
    if _PORT_RE.match(raw[match.end() - 1 :]):
        # "www.google.com:1234/" or "localhost:8080": a host and its port, not a scheme.
        return "http", raw
    raise InvalidURL(f"not an http(s) URL: scheme {scheme!r}")


def _strip_userinfo_and_port(authority: bytes) -> bytes:
    # The host is what follows the last "@": "http://good.example@evil.example/" goes to evil.
    host = authority.rpartition(b"@")[2]
    if host.startswith(b"["):
        end = host.find(b"]")
        return host if end == -1 else host[: end + 1]
    return host.partition(b":")[0]


def canonical_host(raw: bytes | str) -> str:
    """Safe Browsing's host steps, with IDN mapping first so look-alike dots and letters count."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    if raw.startswith(b"["):
        return _canonical_ipv6(raw)
    try:
        text = raw.decode("utf-8").translate(_DOT_LIKE)
    except UnicodeDecodeError:
        # Not text at all (Safe Browsing's "http://\x01\x80.com/"): keep the bytes, escaped.
        return _escape(_collapse_dots(raw.lower()))
    if not text.isascii():
        try:
            text = _uts46_map(text)
        except (idna.IDNAError, UnicodeDecodeError):
            return _escape(_collapse_dots(raw.lower()))
    if not _HOST_DELIMITERS.isdisjoint(text):
        # Only a mapping can bring these here ("／" is "/" in UTS #46); browsers refuse such a
        # host, and keeping it would split differently when canonicalized again.
        raise InvalidURL(f"the host has a forbidden character: {text!r}")
    host = _collapse_dots(text.lower().encode("utf-8")).decode("utf-8")
    ip = _parse_ipv4(host)
    if ip is not None:
        return ip
    if host.isascii():
        return _escape(host.encode("ascii"))
    try:
        return ".".join(_alabel(label) for label in host.split("."))
    except _NotAHostname:
        return _escape(host.encode("utf-8"))


def _uts46_map(text: str) -> str:
    """UTS #46 mapping: full-width letters, dots and digits to ASCII, case folded.

    The mapping can spell a new percent-escape (full-width "％４１" is "%41"), which Safe Browsing's
    unescaping would have removed had it been there; so unescape and map again until neither
    changes anything. Without this a canonical host would not be canonical a second time.
    """
    for _ in range(_MAX_UNESCAPE_ROUNDS):
        mapped = idna.uts46_remap(text, std3_rules=False, transitional=False)
        unescaped = _unescape_fully(mapped.encode("utf-8"))
        if unescaped == mapped.encode("utf-8"):
            return mapped
        text = unescaped.decode("utf-8").translate(_DOT_LIKE)
    return text


def _collapse_dots(host: bytes) -> bytes:
    """Remove leading and trailing dots and replace runs of dots with one."""
    return b".".join(part for part in host.split(b".") if part)


class _NotAHostname(Exception):
    pass


# Characters no resolvable hostname has; a host with one is kept as escaped bytes instead.
_NOT_IN_HOSTNAMES: Final = frozenset(chr(c) for c in _ESCAPED_BYTES if c < 128)


def _alabel(label: str) -> str:
    if label.isascii():
        return _escape(label.encode("ascii"))
    try:
        return idna.alabel(label).decode("ascii")
    except idna.IDNAError:
        if _NOT_IN_HOSTNAMES.intersection(label):
            # Punycode moves ASCII characters around, so "%" in a label could come out as a new
            # escape sequence; such a host resolves nowhere anyway.
            raise _NotAHostname from None
        # IDNA 2008 refuses some labels browsers still resolve (emoji, for one). Any stable ASCII
        # spelling will do for matching; plain punycode is the one browsers would send.
        return "xn--" + label.encode("punycode").decode("ascii")


def _parse_ipv4(host: str) -> str | None:
    """Any legal inet_aton spelling (decimal, octal, hex, 1 to 4 parts) as a dotted quad."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or not all(_IPV4_PART_RE.match(p) for p in parts):
        return None
    values: list[int] = []
    for part in parts:
        if part[:2] in ("0x", "0X"):
            values.append(int(part[2:] or "0", 16))
        elif len(part) > 1 and part[0] == "0":
            values.append(int(part, 8))
        else:
            values.append(int(part))
    # Every part but the last is one byte; the last fills the remaining bytes (so "3279880203"
    # is a whole address and "10.1" is 10.0.0.1). Out of range is not an address at all.
    last_bytes = 5 - len(values)
    if any(v > 255 for v in values[:-1]) or values[-1] >= 256**last_bytes:
        return None
    number = 0
    for value in values[:-1]:
        number = number << 8 | value
    number = number << (8 * last_bytes) | values[-1]
    return str(ipaddress.IPv4Address(number))


def _canonical_ipv6(raw: bytes) -> str:
    inner = raw[1:-1] if raw.endswith(b"]") else raw[1:]
    try:
        address = ipaddress.IPv6Address(inner.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return _escape(raw.lower())
    if address.ipv4_mapped is not None:
        # ::ffff:192.168.1.1 reaches the same machine as 192.168.1.1.
        return str(address.ipv4_mapped)
    return f"[{address.compressed}]"


def _canonical_path(path: bytes) -> str:
    """Resolve "." and ".." segments, then collapse runs of slashes; keep a trailing slash."""
    if not path:
        return "/"
    segments = path.split(b"/")[1:]
    kept: list[bytes] = []
    for segment in segments:
        if segment == b".":
            continue
        if segment == b"..":
            if kept:
                kept.pop()
            continue
        kept.append(segment)
    # Empty segments are dropped only now, so "/x//../bad" resolves as a browser would (to
    # "/x/bad"), and only then are the doubled slashes collapsed.
    nonempty = [s for s in kept if s]
    trailing = segments[-1] in (b"", b".", b"..")
    result = b"/" + b"/".join(nonempty)
    if trailing and nonempty:
        result += b"/"
    return _escape(result)


def _escape(raw: bytes) -> str:
    return "".join([_ESCAPE_TABLE[b] for b in raw])
